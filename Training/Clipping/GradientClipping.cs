// The clipping math: total gradient norm, scaling by a norm, clamping by value. Pure functions over tensors.
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Clipping;

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
        var norms = gradients.Select(g => VectorNorm(g, normType)).ToArray();
        return VectorNorm(stack(norms), normType);
    }

    /// <summary>
    /// ‖t‖_p over all its elements, a 0-d tensor. <c>linalg.norm</c> of the flattened tensor hands p to
    /// libtorch as a double; <c>linalg.vector_norm</c> would hand it over as a temporary Scalar that
    /// nothing keeps alive during the call (see <see cref="HeldScalars"/>).
    /// </summary>
    public static Tensor VectorNorm(Tensor t, double normType) => linalg.norm(t.flatten(), normType);

    /// <summary>
    /// Multiplies every gradient in place by <c>min(1, maxNorm / (totalNorm + 1e-6))</c> and returns that
    /// coefficient. Always multiplies, never branches on the value: that avoids a host sync on devices,
    /// and a factor of exactly 1 leaves the gradients bit-identical. The coefficient is formed as libtorch's
    /// <c>clip_grad_norm_</c> forms it — a float32 tensor holding maxNorm, divided by the norm plus ε — not
    /// as TorchSharp's <c>double / Tensor</c> (reciprocal, then multiply), which can differ in the last bit.
    /// </summary>
    public static Tensor ScaleToNorm(IReadOnlyList<Tensor> gradients, double maxNorm, Tensor totalNorm)
    {
        var coefficient = Coefficient(maxNorm, totalNorm);
        Scale(gradients, coefficient);
        return coefficient;
    }

    /// <summary>
    /// <c>min(1, maxNorm / (totalNorm + 1e-6))</c> as libtorch's <c>clip_grad_norm_</c> forms it: a float32 tensor holding
    /// maxNorm, divided by the norm plus ε, clamped to 1 (a 0-d tensor like <paramref name="totalNorm"/>).
    /// </summary>
    public static Tensor Coefficient(double maxNorm, Tensor totalNorm)
    {
        using var s = new HeldScalars();
        return full_like(totalNorm, s[maxNorm]).div_(totalNorm.add(s[Epsilon], s.One)).clamp_max(s[1.0]);
    }

    /// <summary>Multiplies every gradient in place by <paramref name="coefficient"/> (a 0-d tensor).</summary>
    public static void Scale(IReadOnlyList<Tensor> gradients, Tensor coefficient)
    {
        using var noGrad = no_grad();
        foreach (var g in gradients) g.mul_(coefficient.to(g.device));
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
        if (!double.IsFinite(totalValue)) return new ClipOutcome(totalValue, double.NaN, false, 0, 1);
        double coefficient = ScaleToNorm(gradients, maxNorm, total).item<float>();
        return new ClipOutcome(totalValue, coefficient, coefficient < 1.0, coefficient < 1.0 ? 1 : 0, 1, maxNorm);
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
        long elements = gradients.Sum(g => g.numel());
        if (!double.IsFinite(totalValue)) return new ClipOutcome(totalValue, double.NaN, false, 0, (int)elements);
        long beyond = ClampToValue(gradients, limit);
        return new ClipOutcome(totalValue, double.NaN, beyond > 0, (int)beyond, (int)elements);
    }

    /// <summary>Clamps every element to [-limit, limit] in place; returns how many were beyond it.</summary>
    public static long ClampToValue(IReadOnlyList<Tensor> gradients, double limit)
    {
        using var scope = NewDisposeScope();
        using var s = new HeldScalars();
        long beyond = gradients.Sum(g => g.abs().gt(s[limit]).sum().item<long>());
        using var noGrad = no_grad();
        foreach (var g in gradients) g.clamp_(s[-limit], s[limit]);
        return beyond;
    }

    /// <summary>Only measures: the L2 norm of all gradients, nothing clipped.</summary>
    public static ClipOutcome Measure(IReadOnlyList<Tensor> gradients, double normType = 2.0)
    {
        using var scope = NewDisposeScope();
        return new ClipOutcome(TotalNorm(gradients, normType).item<float>(), 1.0, false);
    }
}
