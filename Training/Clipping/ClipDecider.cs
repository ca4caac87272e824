// The second clipping step: from the global view (per-tensor norms) to one decision, keeping AutoClip's history.
using static TorchSharp.torch;

namespace DistClip.Training.Clipping;

/// <summary>
/// Deciding, the second of the three clipping steps: the global norm from the per-tensor norms, and the coefficient
/// the global-norm policies apply. It holds the only cross-step state a policy has (AutoClip's norms), so there is one
/// of it per run: the coordinator's. No worker ever forms a global coefficient of its own.
/// </summary>
public sealed class ClipDecider(ClipPolicy policy)
{
    public ClipPolicy Policy { get; } = policy;

    /// <summary>What the policy remembers between steps: AutoClip's norms (empty for every other policy).</summary>
    public AutoClipHistory History { get; } = new();

    /// <summary>The norm type the per-tensor norms must be measured in.</summary>
    public double NormType => Policy.ReportedNormType;

    /// <summary>Decides one step from the per-tensor norms of <see cref="NormType"/>, in tensor order.</summary>
    public ClipDecision Decide(ReadOnlySpan<float> tensorNorms)
    {
        float norm = ClipMeasure.Combine(tensorNorms, NormType);
        if (!float.IsFinite(norm)) return new ClipDecision(norm, float.NaN, double.NaN);
        switch (Policy)
        {
            case ClipPolicy.GlobalNorm n:
                return new ClipDecision(norm, Coefficient(n.MaxNorm, norm), n.MaxNorm);
            case ClipPolicy.Auto a:
                History.Add(norm);
                double threshold = History.Percentile(a.Percentile);
                return new ClipDecision(norm, Coefficient(threshold, norm), threshold);
            case ClipPolicy.NoClip:
                return new ClipDecision(norm, 1f, double.NaN);
            default:
                return new ClipDecision(norm, float.NaN, double.NaN);
        }
    }

    private static float Coefficient(double maxNorm, float norm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "must be positive");
        using var scope = NewDisposeScope();
        return GradientClipping.Coefficient(maxNorm, tensor(norm)).item<float>();
    }
}
