// Adam's moment updates, shared by Adam and AdamW, in TorchSharp's order of operations.
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Optimization;

/// <summary>The moment estimates of Adam and AdamW, updated in place exactly as TorchSharp 0.107 does.</summary>
internal static class AdamMoments
{
    /// <summary>
    /// m ← β1·m + (1 − β1)·g and v ← β2·v + (1 − β2)·g·ḡ, then the parameter step
    /// θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε).
    /// </summary>
    public static void Step(Tensor param, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor gradConj, long step,
        double beta1, double beta2, double eps, double lr, HeldScalars s)
    {
        double biasCorrection1 = 1 - Math.Pow(beta1, step), biasCorrection2 = 1 - Math.Pow(beta2, step);
        expAvg.mul_(s[beta1]).add_(grad, s[1 - beta1]);
        expAvgSq.mul_(s[beta2]).addcmul_(grad, gradConj, s[1 - beta2]);
        var denominator = (expAvgSq.sqrt() / s[Math.Sqrt(biasCorrection2)]).add_(s[eps], s.One);
        param.addcdiv_(expAvg, denominator, s[-(lr / biasCorrection1)]);
    }
}
