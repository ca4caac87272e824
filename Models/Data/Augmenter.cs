// Applies an Augmentation to a batch, with random choices fixed by (seed, epoch, sample index).
using DistClip.Core;
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// Augments batches so that the result for a sample depends only on (seed, epoch, sample index) —
/// never on which worker or which batch position it lands in. Pure: no state between calls.
/// </summary>
public sealed class Augmenter(Augmentation augmentation, int seed)
{
    /// <summary>The training transform of <paramref name="images"/> (B, C, H, W), sample b being <paramref name="indices"/>[b].</summary>
    public Tensor Train(Tensor images, ReadOnlySpan<int> indices, int epoch)
    {
        if (augmentation.Flip || augmentation.CropPadding > 0)
        {
            var samples = new Tensor[indices.Length];
            for (int b = 0; b < indices.Length; b++)
            {
                var random = new Random(StableSeed.Of(seed, epoch, indices[b]));
                samples[b] = RandomCropAndFlip(images[b], random);  // (C, H, W)
            }
            images = stack(samples);
        }
        return Evaluate(images);
    }

    /// <summary>
    /// The training transform of a segmentation batch: images as <see cref="Train"/> does, and their
    /// masks (B, H, W) flipped and cropped with the same draws (the padding labelled 255, ignore) and
    /// resized nearest-neighbour.
    /// </summary>
    public (Tensor Images, Tensor Masks) TrainWithMasks(Tensor images, Tensor masks, ReadOnlySpan<int> indices, int epoch)
    {
        if (augmentation.Flip || augmentation.CropPadding > 0)
        {
            var imageSamples = new Tensor[indices.Length];
            var maskSamples = new Tensor[indices.Length];
            for (int b = 0; b < indices.Length; b++)
            {
                imageSamples[b] = RandomCropAndFlip(images[b], new Random(StableSeed.Of(seed, epoch, indices[b])));              // (C, H, W)
                maskSamples[b] = RandomCropAndFlip(masks[b].unsqueeze(0), new Random(StableSeed.Of(seed, epoch, indices[b])), padValue: TaskLabels.Ignore).squeeze(0);  // same draws
            }
            (images, masks) = (stack(imageSamples), stack(maskSamples));
        }
        return (Evaluate(images), EvaluateMasks(masks));
    }

    /// <summary>The deterministic part for masks: nearest-neighbour resize.</summary>
    public Tensor EvaluateMasks(Tensor masks) => augmentation.Resize is int size
        ? nn.functional.interpolate(masks.unsqueeze(1).to_type(ScalarType.Float32), [size, size], mode: InterpolationMode.Nearest).squeeze(1).to_type(ScalarType.Int64)
        : masks;

    /// <summary>The deterministic part, also used at evaluation: resize, then normalise.</summary>
    public Tensor Evaluate(Tensor images) => Normalize(Resize(images));

    /// <summary>The evaluation resize alone (bilinear; pixels stay in [0, 1]); the images themselves without one.</summary>
    public Tensor Resize(Tensor images) => augmentation.Resize is int size
        ? nn.functional.interpolate(images, [size, size], mode: InterpolationMode.Bilinear, align_corners: false)
        : images;

    /// <summary>The per-channel normalisation (x − mean) / std alone; the images themselves without one.</summary>
    public Tensor Normalize(Tensor images)
    {
        if (augmentation.Mean is not { } mean || augmentation.Std is not { } std) return images;
        if (mean.Length != images.shape[1])
            throw new ArgumentException($"normalize has {mean.Length} means for images with {images.shape[1]} channels.");
        return (images - tensor(mean).view(1, -1, 1, 1)) / tensor(std).view(1, -1, 1, 1);
    }

    /// <summary>The smallest normalisation std (1 without normalisation): an L∞ radius ε in pixels is ε / this in the model's inputs.</summary>
    public double SmallestStd => augmentation.Std is { Length: > 0 } std ? std.Min() : 1.0;

    private Tensor RandomCropAndFlip(Tensor image, Random random, double padValue = 0)
    {
        // Draws are made in a fixed order (crop offsets, then flip) whatever is enabled, so adding one
        // transform does not change the other's choices.
        int p = augmentation.CropPadding;
        int dy = random.Next(2 * p + 1), dx = random.Next(2 * p + 1);
        bool flip = random.Next(2) == 1;
        if (p > 0)
        {
            long h = image.shape[1], w = image.shape[2];
            image = nn.functional.pad(image, [p, p, p, p], value: padValue).narrow(1, dy, h).narrow(2, dx, w);
        }
        if (augmentation.Flip && flip) image = image.flip(2);
        return image;
    }
}
