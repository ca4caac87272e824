// The clipping math: a tensor's norm, the coefficient of clip_grad_norm_, scaling, clamping by value. Pure functions over tensors.
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Clipping;

/// <summary>
/// The arithmetic of PyTorch's <c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>, which the three clipping
/// steps (<see cref="ClipMeasure"/>, <see cref="ClipDecider"/>, <see cref="ClipApplier"/>) are made of. The gradients they
/// see are the reduced global gradient, so the norm is the true global norm over every parameter of the model.
/// </summary>
public static class GradientClipping
{
    /// <summary>PyTorch's epsilon in <c>max_norm / (total_norm + 1e-6)</c>.</summary>
    public const double Epsilon = 1e-6;

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
}
