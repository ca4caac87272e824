// FGSM and PGD, the L∞ gradient attacks, as pure functions of a loss and a batch in pixel space.
using static TorchSharp.torch;

namespace DistClip.Models.Robustness;

/// <summary>
/// The two L∞ attacks, in pixel space ([0, 1] before normalisation): the <c>loss</c> argument maps pixels
/// (B, C, H, W) to the summed loss of the batch — normalisation and the model inside it, so the gradient
/// flows through the normalisation. Summed, each sample's gradient is its own (the batch does not scale it).
/// </summary>
public static class GradientAttacks
{
    /// <summary>
    /// FGSM (Goodfellow et al. 2015): clamp(x + ε·sign(∇ₓL(f(x), y)), 0, 1). A zero gradient element moves nothing
    /// (sign 0), as in PyTorch's <c>torch.sign</c>.
    /// </summary>
    public static Tensor Fgsm(Func<Tensor, Tensor> loss, Tensor pixels, double epsilon)
    {
        var step = SignedGradient(loss, pixels);
        return (pixels + step * epsilon).clamp(0, 1).detach();
    }

    /// <summary>
    /// PGD (Madry et al. 2018): x₀ = clamp(x + ε·u, 0, 1) with <paramref name="start"/> u uniform in [−1, 1)
    /// (<see cref="SampleNoise.UniformStart"/>); then <paramref name="steps"/> times
    /// xₖ₊₁ = clamp(min(max(xₖ + α·sign(∇L(xₖ)), x − ε), x + ε), 0, 1) with α = ε/4.
    /// </summary>
    public static Tensor Pgd(Func<Tensor, Tensor> loss, Tensor pixels, double epsilon, int steps, Tensor start)
    {
        var low = (pixels - epsilon).detach();   // the ε-ball's corners, (B, C, H, W)
        var high = (pixels + epsilon).detach();
        var x = (pixels + start * epsilon).clamp(0, 1).detach();
        double alpha = epsilon / 4;
        for (int k = 0; k < steps; k++)
        {
            using var scope = NewDisposeScope();
            var moved = x + SignedGradient(loss, x) * alpha;
            x = moved.maximum(low).minimum(high).clamp(0, 1).detach().MoveToOuterDisposeScope();
        }
        return x;
    }

    /// <summary>sign(∇ₓ loss(x)), with the gradient taken for x alone (the model's parameter gradients are left untouched).</summary>
    private static Tensor SignedGradient(Func<Tensor, Tensor> loss, Tensor pixels)
    {
        using var grad = enable_grad();
        var x = pixels.detach().requires_grad_(true);
        var gradient = autograd.grad([loss(x)], [x])[0];
        return gradient.sign().detach();
    }
}
