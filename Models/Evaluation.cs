// Loss and accuracy of a classifier over a whole data set.
using DistClip.Models.Data;
using static TorchSharp.torch;

namespace DistClip.Models;

/// <summary>Mean cross-entropy loss and top-1 accuracy over a data set.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, int Samples);

/// <summary>Evaluates classifiers; the model is put in eval mode for the pass and restored after.</summary>
public static class Evaluation
{
    /// <param name="transform">Applied to each image batch before the model (resize, normalisation), or null.</param>
    public static EvaluationResult Classify(nn.Module<Tensor, Tensor> model, IImageDataset data, int batchSize = 1000, Device? device = null, Func<Tensor, Tensor>? transform = null)
    {
        device ??= CPU;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double lossSum = 0;
            long correct = 0;
            var indices = Enumerable.Range(0, data.Count).ToArray();
            for (int start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var (x, y) = data.Batch(indices.AsSpan(start, Math.Min(batchSize, data.Count - start)));
                if (transform is not null) x = transform(x);
                x = x.to(device); y = y.to(device);
                var logits = model.forward(x);                                         // (B, classes)
                lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(y).sum().item<long>();
            }
            return new EvaluationResult(lossSum / data.Count, (double)correct / data.Count, data.Count);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
