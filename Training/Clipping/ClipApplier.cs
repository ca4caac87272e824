// The third clipping step: a replica's gradient changed by the decision (or by its own per-tensor policy).
using static TorchSharp.torch;

namespace DistClip.Training.Clipping;

/// <summary>
/// Applying, the third of the three clipping steps, on one full replica of the reduced gradient: the global-norm
/// policies multiply by the decided coefficient; the per-tensor policies (value, layer, AGC) are computed here, the
/// same way on every replica, since each holds the same gradient and weights.
/// </summary>
public sealed class ClipApplier
{
    private readonly bool[] _agcIncluded;

    public ClipPolicy Policy { get; }

    /// <param name="parameterNames">Parameter names in canonical order; the final classifier layer is the last module that
    /// owns parameters (for AGC's exclusion).</param>
    public ClipApplier(ClipPolicy policy, IReadOnlyList<string> parameterNames)
    {
        Policy = policy;
        string finalLayer = parameterNames.Count == 0 ? "" : ModuleOf(parameterNames[^1]);
        bool includeFinal = policy is ClipPolicy.Adaptive { IncludeFinalLayer: true };
        _agcIncluded = parameterNames.Select(n => includeFinal || ModuleOf(n) != finalLayer).ToArray();
    }

    private static string ModuleOf(string parameterName) =>
        parameterName.LastIndexOf('.') is var dot and >= 0 ? parameterName[..dot] : "";

    /// <summary>Clips <paramref name="gradients"/> in place by <paramref name="decision"/> (weights are read by AGC only) and reports.</summary>
    public ClipOutcome Apply(ClipDecision decision, IReadOnlyList<Tensor> gradients, IReadOnlyList<Tensor> weights)
    {
        double norm = decision.PreClipNorm;
        if (!decision.NormIsFinite) return Policy switch
        {
            ClipPolicy.NoClip => new ClipOutcome(norm, 1.0, false),
            ClipPolicy.Value => new ClipOutcome(norm, double.NaN, false, 0, (int)gradients.Sum(g => g.numel())),
            ClipPolicy.PerLayer => new ClipOutcome(norm, double.NaN, false, 0, gradients.Count),
            ClipPolicy.Adaptive => new ClipOutcome(norm, double.NaN, false, 0, 0),
            _ => new ClipOutcome(norm, double.NaN, false, 0, 1),
        };
        switch (Policy)
        {
            case ClipPolicy.GlobalNorm or ClipPolicy.Auto:
                using (var scope = NewDisposeScope()) GradientClipping.Scale(gradients, tensor(decision.Coefficient));
                bool clipped = decision.Coefficient < 1f;
                return new ClipOutcome(norm, decision.Coefficient, clipped, clipped ? 1 : 0, 1, decision.Threshold);
            case ClipPolicy.Value v:
                long beyond = GradientClipping.ClampToValue(gradients, v.Limit);
                return new ClipOutcome(norm, double.NaN, beyond > 0, (int)beyond, (int)gradients.Sum(g => g.numel()));
            case ClipPolicy.PerLayer l:
                var (tensors, smallest) = LayerwiseClipping.ScaleEachTensor(gradients, l.MaxNorm, l.NormType);
                return new ClipOutcome(norm, smallest, tensors > 0, tensors, gradients.Count);
            case ClipPolicy.Adaptive a:
                var (units, considered) = LayerwiseClipping.ScaleUnits(gradients, weights, _agcIncluded, a.Lambda);
                return new ClipOutcome(norm, double.NaN, units > 0, (int)units, (int)considered);
            default:
                return new ClipOutcome(norm, 1.0, false);
        }
    }
}
