// What evaluating a model on a data set found: the loss and the task's metrics.
using DistClip.Core;

namespace DistClip.Models;

/// <summary>
/// Mean loss and the task's metrics: accuracy (and top-5 accuracy beyond 10 classes) for
/// classification; MAE and R² (1 − Σ residual² / Σ (target − target mean)², over all targets) for
/// regression; pixel accuracy (in <see cref="EvaluationResult.Accuracy"/>) and mean IoU over the classes
/// that occur (in prediction or truth) for segmentation, both over pixels that are not ignored.
/// </summary>
public sealed record EvaluationResult(TaskKind Task, double Loss, int Samples, double? Accuracy = null, double? Top5Accuracy = null, double? Mae = null, double? R2 = null, double? MeanIoU = null)
{
    /// <summary>The metrics as one line, e.g. <c>loss 0.3159  accuracy 0.8870</c>.</summary>
    public string Describe() => System.FormattableString.Invariant(Task switch
    {
        TaskKind.Regression => $"mse {Loss:F5}  mae {Mae:F5}  r2 {R2:F4}",
        TaskKind.Segmentation => $"loss {Loss:F4}  pixel accuracy {Accuracy:F4}  mean IoU {MeanIoU:F4}",
        _ => $"loss {Loss:F4}  accuracy {Accuracy:F4}{(Top5Accuracy is double t ? $"  top-5 {t:F4}" : "")}",
    }) + $" ({Samples} samples)";
}
