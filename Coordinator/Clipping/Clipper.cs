// Applies the run's clipping policy to the reduced gradient, keeping what a policy remembers between steps.
using static TorchSharp.torch;

namespace DistClip.Coordinator.Clipping;

/// <summary>
/// The coordinator's clipping step: dispatches to the pure policy functions and holds the only
/// cross-step state a policy has (AutoClip's history of global norms).
/// </summary>
public sealed class Clipper
{
    private readonly AutoClipHistory _history = new();
    private readonly bool[] _agcIncluded;

    public ClipPolicy Policy { get; }

    /// <summary>What the policy remembers between steps: AutoClip's norms (empty for every other policy).</summary>
    public AutoClipHistory History => _history;

    /// <param name="parameterNames">Parameter names in canonical order; the final classifier layer is
    /// the last module that owns parameters (for AGC's exclusion).</param>
    public Clipper(ClipPolicy policy, IReadOnlyList<string> parameterNames)
    {
        Policy = policy;
        string finalLayer = parameterNames.Count == 0 ? "" : ModuleOf(parameterNames[^1]);
        bool includeFinal = policy is ClipPolicy.Adaptive { IncludeFinalLayer: true };
        _agcIncluded = parameterNames.Select(n => includeFinal || ModuleOf(n) != finalLayer).ToArray();
    }

    private static string ModuleOf(string parameterName) =>
        parameterName.LastIndexOf('.') is var dot and >= 0 ? parameterName[..dot] : "";

    /// <summary>Clips <paramref name="gradients"/> in place (weights are read by AGC only) and reports.</summary>
    public ClipOutcome Apply(IReadOnlyList<Tensor> gradients, IReadOnlyList<Tensor> weights) => Policy switch
    {
        ClipPolicy.GlobalNorm n => GradientClipping.ClipByNorm(gradients, n.MaxNorm, n.NormType),
        ClipPolicy.Value v => GradientClipping.ClipByValue(gradients, v.Limit),
        ClipPolicy.PerLayer l => LayerwiseClipping.PerLayer(gradients, l.MaxNorm, l.NormType),
        ClipPolicy.Adaptive a => LayerwiseClipping.Adaptive(gradients, weights, _agcIncluded, a.Lambda),
        ClipPolicy.Auto auto => AutoClip(gradients, auto),
        _ => GradientClipping.Measure(gradients),
    };

    private ClipOutcome AutoClip(IReadOnlyList<Tensor> gradients, ClipPolicy.Auto auto)
    {
        double norm = GradientClipping.Measure(gradients, auto.NormType).PreClipNorm;
        if (!double.IsFinite(norm)) return new ClipOutcome(norm, double.NaN, false, 0, 1);
        _history.Add(norm);
        double threshold = _history.Percentile(auto.Percentile);
        return GradientClipping.ClipByNorm(gradients, threshold, auto.NormType) with { Threshold = threshold };
    }
}
