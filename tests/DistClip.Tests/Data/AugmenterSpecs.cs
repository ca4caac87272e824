// Augmentation is a function of (seed, epoch, sample index) alone.
using DistClip.Models.Data;
using Xunit;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Data;

public class AugmenterSpecs
{
    private static float[] Values(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Should_augment_a_sample_the_same_whichever_batch_it_is_in()
    {
        using var scope = NewDisposeScope();
        var data = TestData.Synthetic(64);
        var augmenter = new Augmenter(Augmentation.Parse("flip,crop:3"), seed: 7);
        var (whole, _) = data.Batch([5, 9, 11, 40]);
        var (alone, _) = data.Batch([11]);
        var inBatch = augmenter.Train(whole, [5, 9, 11, 40], epoch: 2);
        var single = augmenter.Train(alone, [11], epoch: 2);
        Assert.Equal(Values(single[0]), Values(inBatch[2]));
        Assert.NotEqual(Values(single[0]), Values(augmenter.Train(alone, [11], epoch: 3)[0]));   // another epoch, another draw
        Assert.Equal(new long[] { 4, 1, 28, 28 }, inBatch.shape);
    }

    [Fact]
    public void Should_flip_crop_resize_and_normalise()
    {
        using var scope = NewDisposeScope();
        var image = arange(16f).view(1, 1, 4, 4);
        var flipped = Enumerable.Range(0, 50).Select(i => new Augmenter(Augmentation.Parse("flip"), i).Train(image, [0], 0))
            .Select(Values).ToList();
        Assert.Contains(flipped, v => v[0] == 3 && v[3] == 0);   // some seeds flip horizontally…
        Assert.Contains(flipped, v => v[0] == 0 && v[3] == 3);   // …and some do not
        var cropped = Enumerable.Range(0, 50).Select(i => Values(new Augmenter(Augmentation.Parse("crop:1"), i).Train(image, [0], 0))).ToList();
        Assert.Contains(cropped, v => v[0] == 0 && v[5] == 0);   // shifted down-right: a zero border enters
        Assert.All(cropped, v => Assert.Equal(16, v.Length));
        var resized = new Augmenter(Augmentation.Parse("resize:8,normalize:7.5:2"), 0).Evaluate(image);
        Assert.Equal(new long[] { 1, 1, 8, 8 }, resized.shape);
        Assert.True(Math.Abs(resized.mean().item<float>()) < 1e-4, "normalised to mean 0");
    }

    [Fact]
    public void Should_move_segmentation_masks_with_their_pixels()
    {
        using var scope = NewDisposeScope();
        var data = new SyntheticSegmentation("masks", 16, 3);
        var indices = Enumerable.Range(0, 16).ToArray();
        var (images, masks) = data.Batch(indices);
        var augmenter = new Augmenter(Augmentation.Parse("flip,crop:3,resize:16"), seed: 9);
        var (augmented, moved) = augmenter.TrainWithMasks(images, masks, indices, epoch: 1);
        Assert.Equal(new long[] { 16, 1, 16, 16 }, augmented.shape);
        Assert.Equal(new long[] { 16, 16, 16 }, moved.shape);

        // Without resizing, every pixel keeps its relation to its label: shapes are bright (>= 100/255),
        // background dark (< 60/255), and the crop's padding is black and ignored.
        var (same, sameMasks) = new Augmenter(Augmentation.Parse("flip,crop:3"), seed: 9).TrainWithMasks(images, masks, indices, epoch: 1);
        var pixel = same.squeeze(1).data<float>().ToArray();
        var label = sameMasks.data<long>().ToArray();
        for (int k = 0; k < pixel.Length; k++)
        {
            if (label[k] is >= 1 and <= 3) Assert.True(pixel[k] >= 100 / 255f, $"pixel {k} labelled {label[k]} is dark ({pixel[k]})");
            if (label[k] == 0) Assert.True(pixel[k] < 60 / 255f, $"pixel {k} labelled background is bright ({pixel[k]})");
        }
        Assert.Contains(label, l => l == TaskLabels.Ignore);
        Assert.NotEqual(masks.data<long>().ToArray(), label);   // something moved
    }

    [Theory]
    [InlineData("flip,rotate")]
    [InlineData("crop:-1")]
    [InlineData("normalize:0.5:0")]
    [InlineData("normalize:0.5/0.4:0.2")]
    public void Should_reject_bad_specs_naming_the_part(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => Augmentation.Parse(spec));
        Assert.Contains("Augmentation '", e.Message);
    }
}
