// What a data set asks a model to do, which decides the loss and the metrics.
namespace DistClip.Core;

/// <summary>The learning task of a data set.</summary>
public enum TaskKind
{
    /// <summary>Labels are class indices; cross-entropy; accuracy (and top-5 beyond 10 classes).</summary>
    Classification = 0,
    /// <summary>Targets are float vectors; mean squared error; MAE and R².</summary>
    Regression = 1,
    /// <summary>Labels are per-pixel class indices (255 = ignore); per-pixel cross-entropy; pixel accuracy and mean IoU.</summary>
    Segmentation = 2,
}
