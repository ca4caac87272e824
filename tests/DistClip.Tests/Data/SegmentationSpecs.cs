// Segmentation: the U-Net reaches mean IoU ≥ 0.8 on synthetic shapes through the real CLI; the metrics and the ignore label.
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Tests.Cli;
using Xunit;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Data;

public class SegmentationSpecs
{
    [Fact]
    public void Should_reach_mean_iou_of_08_on_synthetic_shapes_with_two_workers()
    {
        var run = CliProcess.Run(TimeSpan.FromMinutes(5), "train", "--dataset", "synthetic-segmentation", "--model", "unet", "--epochs", "8",
            "--optimizer", "adam", "--lr", "0.01", "--global-batch", "16", "--clip", "norm:1", "--workers", "2", "--log-every", "1000");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var miou = double.Parse(run.Stdout.Split("mean IoU ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(miou >= 0.8, $"mean IoU {miou}\n{run.Stdout}");
    }

    [Fact]
    public void Should_train_segmentation_with_spatial_augmentation_through_the_cli()
    {
        var run = CliProcess.Run(TimeSpan.FromMinutes(3), "train", "--dataset", "synthetic-segmentation", "--model", "unet", "--steps", "5",
            "--global-batch", "8", "--augment", "flip,crop:2,resize:16");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("mean IoU", run.Stdout);
    }

    /// <summary>A "model" that outputs fixed logits, to check the metrics against a hand count.</summary>
    private sealed class Fixed(Tensor logits) : nn.Module<Tensor, Tensor>("fixed")
    {
        public override Tensor forward(Tensor x) => logits.expand(x.shape[0], -1, -1, -1);
    }

    private sealed class OneImage(long[] mask) : IImageDataset
    {
        public string Name => "one";
        public int Count => 1;
        public int Channels => 1;
        public int Height => 2;
        public int Width => 2;
        public int Classes => 3;
        public TaskKind Task => TaskKind.Segmentation;
        public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices) => (zeros(1, 1, 2, 2), tensor(mask, [1, 2, 2]));
    }

    [Fact]
    public void Should_count_pixel_accuracy_and_mean_iou_over_pixels_that_are_not_ignored()
    {
        // Truth [0, 1 / 2, 255]; prediction [0, 1 / 1, 2]: the ignored pixel counts for nothing.
        var predicted = new long[] { 0, 1, 1, 2 };
        var logits = nn.functional.one_hot(tensor(predicted), 3).to_type(ScalarType.Float32).view(2, 2, 3).permute(2, 0, 1).unsqueeze(0) * 10;
        using var model = new Fixed(logits);
        var result = Evaluation.Evaluate(model, new OneImage([0, 1, 2, TaskLoss.IgnoreLabel]));
        Assert.Equal(2.0 / 3, result.Accuracy!.Value, 6);                 // 2 of the 3 valid pixels
        Assert.Equal((1.0 + 0.5 + 0.0) / 3, result.MeanIoU!.Value, 6);     // IoU class 0: 1/1, class 1: 1/2, class 2: 0/1
        Assert.Contains("mean IoU", result.Describe());
    }

    [Fact]
    public void Should_not_learn_from_ignored_pixels()
    {
        var outputs = randn(1, 3, 2, 2, requires_grad: true);
        var loss = TaskLoss.Sum(TaskKind.Segmentation, outputs, full(new long[] { 1, 2, 2 }, TaskLoss.IgnoreLabel, ScalarType.Int64));
        loss.backward();
        Assert.Equal(0f, loss.item<float>());
        Assert.Equal(0f, outputs.grad!.abs().sum().item<float>());
    }
}
