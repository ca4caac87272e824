// The one interface every data set implements: indexed samples, assembled into batches on demand.
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// A labelled image data set addressed by sample index. Implementations are immutable after loading
/// and safe to read from several workers at once.
/// </summary>
public interface IImageDataset
{
    /// <summary>Short name for logs (for example <c>fashion-mnist/train</c>).</summary>
    string Name { get; }

    /// <summary>Number of samples.</summary>
    int Count { get; }

    int Channels { get; }
    int Height { get; }
    int Width { get; }

    /// <summary>Number of classes (labels in [0, Classes)), or of regression targets per sample: the model's outputs.</summary>
    int Classes { get; }

    /// <summary>The task: classification labels (int64, (B)) or regression targets (float32, (B, Classes)).</summary>
    Core.TaskKind Task => Core.TaskKind.Classification;

    /// <summary>
    /// The samples at <paramref name="indices"/>, in that order: images (B, C, H, W) float32 scaled to
    /// [0, 1] and labels (B) int64 — or targets (B, Classes) float32 for regression — on the CPU. The caller disposes them (or owns a dispose scope).
    /// </summary>
    (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices);
}
