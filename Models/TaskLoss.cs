// Each task's loss, summed over samples so that any split of a batch adds up to the whole batch.
using DistClip.Core;
using static TorchSharp.torch;

namespace DistClip.Models;

/// <summary>
/// The per-sample loss of each task, summed over the samples of a batch: divided by the global batch
/// size it is PyTorch's mean-reduced loss (<c>cross_entropy</c>; <c>mse_loss</c>, whose mean runs over
/// samples × targets).
/// </summary>
public static class TaskLoss
{
    /// <summary>The label of pixels that count for nothing (object borders, "void" in PASCAL VOC, crop padding).</summary>
    public const int IgnoreLabel = Data.TaskLabels.Ignore;

    /// <param name="outputs">(B, classes) logits or (B, targets) predictions.</param>
    /// <param name="labels">(B) class indices or (B, targets) values.</param>
    public static Tensor Sum(TaskKind task, Tensor outputs, Tensor labels)
    {
        using var s = new HeldScalars();
        return task switch
        {
            TaskKind.Classification => nn.functional.cross_entropy(outputs, labels, reduction: nn.Reduction.Sum),
            TaskKind.Regression => nn.functional.mse_loss(outputs, labels, reduction: nn.Reduction.Sum) / s[outputs.shape[1]],  // per-sample mean over targets
            // Per sample: the pixel losses summed over valid pixels, divided by the image's pixel count (a fixed
            // number, so that shards add up exactly; PyTorch's mean divides by the batch's valid pixels instead).
            TaskKind.Segmentation => nn.functional.cross_entropy(outputs, labels, ignore_index: IgnoreLabel, reduction: nn.Reduction.Sum) / s[outputs.shape[2] * outputs.shape[3]],
            _ => throw new ArgumentOutOfRangeException(nameof(task), task, "unknown task"),
        };
    }
}
