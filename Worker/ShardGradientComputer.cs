// Computes the summed loss gradient of a model replica over a set of sample indices.
using DistClip.Models;
using DistClip.Models.Data;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Worker;

/// <summary>
/// Forward and backward passes of a replica with the task's loss summed (not averaged) over the
/// samples (<see cref="TaskLoss"/>), so that the coordinator can form the exact whole-batch mean from any split. Shards
/// larger than the micro-batch are processed in pieces whose gradients accumulate. Every shard starts from the same
/// running statistics (batch norm): a worker may compute several shards of one parameter version, and the forward passes
/// of one must not move the statistics the next starts from, or the result would depend on who computed which shard.
/// (The integer <c>num_batches_tracked</c> is neither exchanged nor restored: it weighs the statistics only for batch
/// norm with momentum None, which no model of the zoo uses.)
/// </summary>
public sealed class ShardGradientComputer
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly FlatParameters _flat;
    private readonly IImageDataset _data;
    private readonly Device _device;
    private readonly int _microBatch;
    private readonly Augmenter? _augmenter;
    private readonly float[] _statistics;   // the running statistics every shard starts from (empty without batch norm)

    /// <param name="augmenter">Training augmentation, or null for none.</param>
    public ShardGradientComputer(nn.Module<Tensor, Tensor> model, FlatParameters flat, IImageDataset data, Device device, int microBatch, Augmenter? augmenter = null)
    {
        if (microBatch < 1) throw new ArgumentOutOfRangeException(nameof(microBatch), microBatch, "must be at least 1");
        (_model, _flat, _data, _device, _microBatch, _augmenter) = (model, flat, data, device, microBatch, augmenter);
        _statistics = new float[flat.StatisticsLength];
    }

    /// <param name="epoch">The step's epoch: augmentation draws depend on (seed, epoch, sample index).</param>
    public ShardResult Compute(ReadOnlySpan<int> indices, int epoch = 0)
    {
        var gradients = GC.AllocateUninitializedArray<float>((int)_flat.ExchangeLength);  // ComputeInto writes every element
        double lossSum = ComputeInto(indices, epoch, gradients);
        return new ShardResult(indices.Length, lossSum, gradients);
    }

    /// <summary>As <see cref="Compute"/>, with the gradient sum written into <paramref name="gradientSum"/> (an exchange vector); returns the loss sum.</summary>
    public double ComputeInto(ReadOnlySpan<int> indices, int epoch, Span<float> gradientSum)
    {
        _model.zero_grad();
        if (_statistics.Length > 0) _flat.SaveStatistics(_statistics);
        try
        {
            double lossSum = 0;
            for (int start = 0; start < indices.Length; start += _microBatch)
            {
                using var scope = NewDisposeScope();
                var chunk = indices.Slice(start, Math.Min(_microBatch, indices.Length - start));
                var (images, labels) = _data.Batch(chunk);
                if (_augmenter is not null && _data.Task == Core.TaskKind.Segmentation)
                    (images, labels) = _augmenter.TrainWithMasks(images, labels, chunk, epoch);          // masks move with their pixels
                else if (_augmenter is not null) images = _augmenter.Train(images, chunk, epoch);      // (b, C, H', W')
                var outputs = _model.forward(images.to(_device));                                            // (b, classes or targets)
                var loss = TaskLoss.Sum(_data.Task, outputs, labels.to(_device));                            // Σ over samples
                loss.backward();
                lossSum += loss.item<float>();  // host sync, once per micro-batch
            }
            if (indices.Length == 0) gradientSum.Clear();
            else _flat.ReadGradients(indices.Length, gradientSum);
            return lossSum;
        }
        finally
        {
            if (_statistics.Length > 0) _flat.RestoreStatistics(_statistics);   // the next shard of this version starts where this one did
        }
    }
}
