// The clipping math: total gradient norm, scaling by a norm, clamping by value. Pure functions over tensors.
using static TorchSharp.torch;

namespace DistClip.Coordinator.Clipping;

/// <summary>What one clipping pass did.</summary>
/// <param name="PreClipNorm">The total norm of the gradients before clipping (of the policy's norm type).</param>
/// <param name="Coefficient">The factor the gradients were multiplied by (1 when untouched; NaN for value clipping).</param>
/// <param name="Clipped">Whether any gradient element changed.</param>
public sealed record ClipOutcome(double PreClipNorm, double Coefficient, bool Clipped)
{
    public bool NormIsFinite => double.IsFinite(PreClipNorm);
}

/// <summary>
/// Gradient clipping with exactly the semantics of PyTorch's <c>torch.nn.utils.clip_grad_norm_</c> and
/// <c>clip_grad_value_</c>. The gradients given are the coordinator's reduced global gradient, so the
/// norm is the true global norm over every parameter of the model.
/// </summary>
public static class GradientClipping
{
    /// <summary>PyTorch's epsilon in <c>max_norm / (total_norm + 1e-6)</c>.</summary>
    public const double Epsilon = 1e-6;

    /// <summary>
    /// The p-norm of all gradients "as if concatenated into a single vector", computed like PyTorch:
    /// <c>‖(‖g_1‖_p, …, ‖g_k‖_p)‖_p</c> (for p = ∞ the largest |element|). Returns a 0-d float32 tensor.
    /// </summary>
    public static Tensor TotalNorm(IReadOnlyList<Tensor> gradients, double normType)
    {
        if (gradients.Count == 0) return tensor(0f);
        var norms = gradients.Select(g => linalg.vector_norm(g, normType)).ToArray();
        return linalg.vector_norm(stack(norms), normType);
    }

    /// <summary>
    /// Multiplies every gradient in place by <c>min(1, maxNorm / (totalNorm + 1e-6))</c> and returns that
    /// coefficient. Always multiplies, never branches on the value: that avoids a host sync on devices,
    /// and a factor of exactly 1 leaves the gradients bit-identical.
    /// </summary>
    public static Tensor ScaleToNorm(IReadOnlyList<Tensor> gradients, double maxNorm, Tensor totalNorm)
    {
        var coefficient = (maxNorm / (totalNorm + Epsilon)).clamp_max(1.0);
        using var noGrad = no_grad();
        foreach (var g in gradients) g.mul_(coefficient.to(g.device));
        return coefficient;
    }

    /// <summary>
    /// <c>clip_grad_norm_</c>: computes the total norm, scales the gradients in place, and reports the
    /// pre-clip norm and coefficient (this reads two scalars back to the host).
    /// </summary>
    public static ClipOutcome ClipByNorm(IReadOnlyList<Tensor> gradients, double maxNorm, double normType)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "must be positive");
        using var scope = NewDisposeScope();
        var total = TotalNorm(gradients, normType);
        double totalValue = total.item<float>();
        if (!double.IsFinite(totalValue)) return new ClipOutcome(totalValue, double.NaN, false);
        double coefficient = ScaleToNorm(gradients, maxNorm, total).item<float>();
        return new ClipOutcome(totalValue, coefficient, coefficient < 1.0);
    }

    /// <summary>
    /// <c>clip_grad_value_</c>: clamps every element to [-limit, limit] in place. Reports the pre-clip
    /// L2 norm and whether any element was beyond the limit.
    /// </summary>
    public static ClipOutcome ClipByValue(IReadOnlyList<Tensor> gradients, double limit)
    {
        if (!(limit > 0)) throw new ArgumentOutOfRangeException(nameof(limit), limit, "must be positive");
        using var scope = NewDisposeScope();
        double totalValue = TotalNorm(gradients, 2.0).item<float>();
        if (!double.IsFinite(totalValue)) return new ClipOutcome(totalValue, double.NaN, false);
        double maxAbs = TotalNorm(gradients, double.PositiveInfinity).item<float>();
        using var noGrad = no_grad();
        foreach (var g in gradients) g.clamp_(-limit, limit);
        return new ClipOutcome(totalValue, double.NaN, maxAbs > limit);
    }

    /// <summary>Applies <paramref name="policy"/> in place and reports what it did.</summary>
    public static ClipOutcome Apply(ClipPolicy policy, IReadOnlyList<Tensor> gradients) => policy switch
    {
        ClipPolicy.GlobalNorm n => ClipByNorm(gradients, n.MaxNorm, n.NormType),
        ClipPolicy.Value v => ClipByValue(gradients, v.Limit),
        _ => Measure(gradients),
    };

    private static ClipOutcome Measure(IReadOnlyList<Tensor> gradients)
    {
        using var scope = NewDisposeScope();
        return new ClipOutcome(TotalNorm(gradients, 2.0).item<float>(), 1.0, false);
    }
}
