// A model's loss and its task's metrics over a whole data set.
using DistClip.Models.Data;
using DistClip.Core;
using static TorchSharp.torch;

namespace DistClip.Models;

/// <summary>Evaluates a model on a data set; the model is put in eval mode for the pass and restored after.</summary>
public static class Evaluation
{
    /// <param name="augmenter">The run's augmentation: its deterministic part (resize, normalisation) applies to
    /// images, and resizing to segmentation masks; null for none.</param>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, IImageDataset data, int batchSize = 1000, Device? device = null, Augmenter? augmenter = null)
    {
        device ??= CPU;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double lossSum = 0, absSum = 0, squareSum = 0, targetSum = 0, targetSquareSum = 0;
            long correct = 0, top5 = 0, values = 0, validPixels = 0;
            var intersection = new long[data.Classes];
            var union = new long[data.Classes];
            var indices = Enumerable.Range(0, data.Count).ToArray();
            for (int start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                using var s = new HeldScalars();  // labels compared with numbers
                var (x, y) = data.Batch(indices.AsSpan(start, Math.Min(batchSize, data.Count - start)));
                if (augmenter is not null)
                {
                    x = augmenter.Evaluate(x);
                    if (data.Task == TaskKind.Segmentation) y = augmenter.EvaluateMasks(y);
                }
                x = x.to(device); y = y.to(device);
                var outputs = model.forward(x);                                        // (B, classes or targets)
                lossSum += TaskLoss.Sum(data.Task, outputs, y).item<float>();
                if (data.Task == TaskKind.Segmentation)
                {
                    var predicted = outputs.argmax(1);                                 // (B, H, W)
                    var valid = y.ne(s[TaskLoss.IgnoreLabel]);
                    validPixels += valid.sum().item<long>();
                    correct += predicted.eq(y).logical_and(valid).sum().item<long>();
                    for (int c = 0; c < data.Classes; c++)
                    {
                        var isPredicted = predicted.eq(s[c]).logical_and(valid);
                        var isTrue = y.eq(s[c]);
                        intersection[c] += isPredicted.logical_and(isTrue).sum().item<long>();
                        union[c] += isPredicted.logical_or(isTrue).sum().item<long>();
                    }
                }
                else if (data.Task == TaskKind.Classification)
                {
                    correct += outputs.argmax(1).eq(y).sum().item<long>();
                    if (data.Classes > 10) top5 += outputs.topk(5).indexes.eq(y.unsqueeze(1)).any(1).sum().item<long>();
                }
                else
                {
                    var error = (outputs - y).to_type(ScalarType.Float64);
                    absSum += error.abs().sum().item<double>();
                    squareSum += error.square().sum().item<double>();
                    var target = y.to_type(ScalarType.Float64);
                    targetSum += target.sum().item<double>();
                    targetSquareSum += target.square().sum().item<double>();
                    values += y.numel();
                }
            }
            int n = data.Count;
            if (data.Task == TaskKind.Segmentation)
            {
                var ious = Enumerable.Range(0, data.Classes).Where(c => union[c] > 0).Select(c => (double)intersection[c] / union[c]).ToList();
                return new EvaluationResult(data.Task, lossSum / n, n, Accuracy: (double)correct / validPixels, MeanIoU: ious.Count > 0 ? ious.Average() : double.NaN);
            }
            if (data.Task == TaskKind.Regression)
            {
                double totalVariance = targetSquareSum - targetSum * targetSum / values;
                return new EvaluationResult(data.Task, lossSum / n, n, Mae: absSum / values, R2: 1 - squareSum / totalVariance);
            }
            return new EvaluationResult(data.Task, lossSum / n, n, Accuracy: (double)correct / n, Top5Accuracy: data.Classes > 10 ? (double)top5 / n : null);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
