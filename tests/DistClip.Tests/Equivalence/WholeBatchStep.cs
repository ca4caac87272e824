// One step of the textbook whole-batch loop from given parameters, in float32 or float64: the per-step truth of the whole-batch check.
using DistClip.Core;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using TorchSharp;
using static TorchSharp.torch;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// The clipped mean gradient of one global batch at given parameters, computed the textbook way — the whole batch in
/// one forward pass, mean cross-entropy, backward, TorchSharp's <c>clip_grad_norm_</c> — in the precision asked for.
/// In float64 it is the truth that every float32 computation of the step approximates; in float32 its distance from
/// that truth is what float32 rounding alone costs on this processor. Written independently of DistClip's trainer.
/// </summary>
public static class WholeBatchStep
{
    /// <summary>What the gradient is formed as: correctly, or as one of the two classic bugs of data-parallel clipping.</summary>
    public enum Variant
    {
        /// <summary>The whole batch's mean gradient, clipped by its own global norm.</summary>
        Correct,
        /// <summary>Each shard's part of the mean clipped by its own norm (to max_norm / S), then added: per-worker clipping.</summary>
        PerWorkerClipping,
        /// <summary>The shards' mean gradients averaged with equal weights although the shards are uneven, then clipped.</summary>
        EqualShardWeights,
    }

    /// <param name="parameters">The parameters the step starts from, an exchange vector of a model without float buffers.</param>
    /// <param name="shards">The number of shards the foils split the batch into (contiguous, the first B mod S one longer).</param>
    /// <returns>The clipped gradient of every parameter, flat in canonical order, as float64.</returns>
    public static double[] ClippedGradient(ModelSpec spec, IImageDataset data, int[] batch, float[] parameters, double maxNorm, double normType,
        ScalarType precision, Variant variant = Variant.Correct, int shards = 1)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(spec, seed: 0);
        var flat = new FlatParameters(model);
        if (flat.ExchangeLength != flat.ElementCount) throw new ArgumentException($"{spec.Name} has float buffers; this reference covers parameters only.", nameof(spec));
        flat.WriteValues(parameters);
        model.to(precision);
        var weights = model.parameters().ToArray();
        model.zero_grad();
        switch (variant)
        {
            case Variant.Correct:
            {
                var (x, y) = data.Batch(batch);
                nn.functional.cross_entropy(model.forward(x.to(precision)), y).backward();
                nn.utils.clip_grad_norm_(weights, maxNorm, normType);
                break;
            }
            case Variant.PerWorkerClipping:
                Shardwise(model, data, batch, shards, (output, y) => nn.functional.cross_entropy(output, y, reduction: nn.Reduction.Sum) / batch.Length,
                    clipEach: maxNorm / shards, normType);
                break;
            case Variant.EqualShardWeights:
                Shardwise(model, data, batch, shards, (output, y) => nn.functional.cross_entropy(output, y) / shards, clipEach: null, normType);
                nn.utils.clip_grad_norm_(weights, maxNorm, normType);
                break;
        }
        return weights.SelectMany(w => w.grad!.to(ScalarType.Float64).cpu().data<double>().ToArray()).ToArray();
    }

    /// <summary>Each shard backpropagates its loss alone (and is clipped alone when <paramref name="clipEach"/> is set); the shard gradients are added.</summary>
    private static void Shardwise(nn.Module<Tensor, Tensor> model, IImageDataset data, int[] batch, int shards, Func<Tensor, Tensor, Tensor> shardLoss,
        double? clipEach, double normType)
    {
        var weights = model.parameters().ToArray();
        var total = weights.Select(w => zeros_like(w)).ToArray();
        int start = 0;
        for (int s = 0; s < shards; s++)
        {
            int length = batch.Length / shards + (s < batch.Length % shards ? 1 : 0);
            var shard = batch[start..(start + length)];
            start += length;
            model.zero_grad();
            var (x, y) = data.Batch(shard);
            shardLoss(model.forward(x.to(weights[0].dtype)), y).backward();
            if (clipEach is double c) nn.utils.clip_grad_norm_(weights, c, normType);
            for (int i = 0; i < weights.Length; i++) total[i].add_(weights[i].grad!);
        }
        using var noGrad = no_grad();
        for (int i = 0; i < weights.Length; i++) weights[i].grad!.copy_(total[i]);
    }

    /// <summary>The share of elements a distance leaves out: where a kink of ReLU or max-pool may have been crossed.</summary>
    public const double KinkShare = 0.01;

    /// <summary>
    /// ‖a − b‖₂ / ‖b‖₂ over every element but the <see cref="KinkShare"/> that differ most, in float64. ReLU and max-pool
    /// are piecewise linear: where one sample's pre-activation lies within rounding of zero, or two inputs of a pool within
    /// rounding of each other, float32 and float64 — or two float32 kernels — take different branches, and that sample's
    /// contribution to a few hundred elements (one filter, one hidden unit's row) jumps; in lenet's 24 steps here this
    /// happens once between float32 and float64 (conv1.bias[5]: −2.44e-4 vs −1.68e-4, 1.85e-3 of the whole gradient).
    /// Such a jump is rounding's legitimate outcome, not an error of the method; a mistake in the method (a weight, a
    /// clip coefficient) moves every element, and shows in the rest.
    /// </summary>
    public static double BulkDistance(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} vs {b.Length}");
        var squared = new double[a.Length];
        double norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            squared[i] = d * d;
            norm += b[i] * b[i];
        }
        Array.Sort(squared);
        int kept = a.Length - (int)Math.Ceiling(KinkShare * a.Length);
        double difference = 0;
        for (int i = 0; i < kept; i++) difference += squared[i];
        return Math.Sqrt(difference / norm);
    }
}
