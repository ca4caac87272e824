// Clipping tensor by tensor (per-layer) and unit by unit relative to the weights (AGC). Pure functions over tensors.
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Clipping;

/// <summary>Per-layer norm clipping and adaptive gradient clipping; both act in place and count what they clipped.</summary>
public static class LayerwiseClipping
{
    /// <summary>AGC's ε: weights smaller than this are treated as this large, so zero-initialised units can still learn.</summary>
    public const double AgcEpsilon = 1e-3;

    /// <summary>
    /// Clips every tensor by its own p-norm: g_t ← g_t · min(1, maxNorm / (‖g_t‖_p + 1e-6)), as <c>clip_grad_norm_</c> would
    /// on that tensor alone. Returns how many tensors were clipped and the smallest coefficient.
    /// </summary>
    public static (int Clipped, double Smallest) ScaleEachTensor(IReadOnlyList<Tensor> gradients, double maxNorm, double normType)
    {
        using var scope = NewDisposeScope();
        int clipped = 0;
        double smallest = 1.0;
        using var noGrad = no_grad();
        foreach (var g in gradients)
        {
            var norm = GradientClipping.VectorNorm(g, normType);
            double coefficient = GradientClipping.ScaleToNorm([g], maxNorm, norm).item<float>();
            if (coefficient < 1.0) clipped++;
            smallest = Math.Min(smallest, coefficient);
        }
        return (clipped, smallest);
    }

    /// <summary>
    /// The L2 norm of each unit of <paramref name="t"/>, broadcastable against it: over all dimensions
    /// but the first for a matrix or a convolution kernel (one norm per output row or filter), over the
    /// whole tensor for a vector or a scalar.
    /// </summary>
    public static Tensor UnitNorms(Tensor t) => t.dim() <= 1
        ? GradientClipping.VectorNorm(t, 2.0)                                                   // ()
        : linalg.norm(t.flatten(1), 2.0, [1], keepdim: true).view([t.shape[0], .. Enumerable.Repeat(1L, (int)t.dim() - 1)]);  // (out, 1, …)


    /// <summary>
    /// AGC on each (gradient, weight) pair whose <paramref name="include"/> flag is set: units with
    /// ‖G_i‖ / max(‖W_i‖, ε) &gt; λ are scaled to exactly λ · max(‖W_i‖, ε). Returns units clipped and units considered.
    /// </summary>
    public static (long Clipped, long Units) ScaleUnits(IReadOnlyList<Tensor> gradients, IReadOnlyList<Tensor> weights, IReadOnlyList<bool> include, double lambda)
    {
        using var scope = NewDisposeScope();
        long clipped = 0, units = 0;
        using var s = new HeldScalars();
        using var noGrad = no_grad();
        for (int i = 0; i < gradients.Count; i++)
        {
            if (!include[i]) continue;
            var g = gradients[i];
            var maxNorm = UnitNorms(weights[i]).clamp_min(s[AgcEpsilon]) * s[lambda];  // λ · max(‖W_i‖, ε)
            var gradNorm = UnitNorms(g);
            var trigger = gradNorm > maxNorm;                                        // ‖G_i‖ / max(‖W_i‖, ε) > λ
            var scaled = g * (maxNorm / gradNorm.clamp_min(s[1e-6]));
            g.copy_(where(trigger, scaled, g));
            clipped += trigger.sum().item<long>();
            units += trigger.numel();
        }
        return (clipped, units);
    }
}
