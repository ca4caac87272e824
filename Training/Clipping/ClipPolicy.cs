// The clipping policies a user can choose, as immutable values, and their one spec syntax.
using System.Globalization;

namespace DistClip.Training.Clipping;

/// <summary>
/// How the coordinator clips the reduced (global) gradient before the optimizer step. Every policy
/// sees the true global gradient. Spec syntax (CLI <c>--clip</c> and config files):
/// <c>none</c>, <c>norm:C[:p]</c>, <c>value:V</c>, <c>layer:C[:p]</c>, <c>agc:λ[:all]</c>, <c>auto:P[:p]</c>.
/// </summary>
public abstract record ClipPolicy
{
    /// <summary>No clipping (the default). The pre-clip L2 norm is still reported.</summary>
    public static ClipPolicy None { get; } = new NoClip();

    public sealed record NoClip : ClipPolicy
    {
        public override string ToString() => "none";
    }

    /// <summary>
    /// PyTorch's <c>clip_grad_norm_(parameters, MaxNorm, NormType)</c> over all parameters.
    /// <paramref name="NormType"/> is p ≥ 1 or <see cref="double.PositiveInfinity"/>.
    /// </summary>
    public sealed record GlobalNorm(double MaxNorm, double NormType) : ClipPolicy
    {
        public override string ToString() => F($"norm:{MaxNorm}:{NormName(NormType)}");
    }

    /// <summary>PyTorch's <c>clip_grad_value_(parameters, Limit)</c>: every element clamped to [-Limit, Limit].</summary>
    public sealed record Value(double Limit) : ClipPolicy
    {
        public override string ToString() => F($"value:{Limit}");
    }

    /// <summary>Each parameter tensor t clipped on its own: g_t ← g_t · min(1, MaxNorm / (‖g_t‖_p + 1e-6)).</summary>
    public sealed record PerLayer(double MaxNorm, double NormType) : ClipPolicy
    {
        public override string ToString() => F($"layer:{MaxNorm}:{NormName(NormType)}");
    }

    /// <summary>
    /// Adaptive gradient clipping (Brock et al. 2021, "High-Performance Large-Scale Image Recognition
    /// Without Normalization"): per unit i (output row of a linear weight, filter of a convolution, the
    /// whole tensor for a bias), if ‖G_i‖ / max(‖W_i‖, 1e-3) &gt; Lambda then
    /// G_i ← Lambda · max(‖W_i‖, 1e-3) / ‖G_i‖ · G_i. The final classifier layer is left alone unless
    /// <paramref name="IncludeFinalLayer"/>, as the paper recommends.
    /// </summary>
    public sealed record Adaptive(double Lambda, bool IncludeFinalLayer = false) : ClipPolicy
    {
        public override string ToString() => F($"agc:{Lambda}{(IncludeFinalLayer ? ":all" : "")}");
    }

    /// <summary>
    /// AutoClip (Seetharaman et al. 2020): the global norm is appended to the history of finite global
    /// norms seen so far, and the gradient is clipped by global norm at the history's
    /// <paramref name="Percentile"/>-th percentile (linear interpolation, as numpy.percentile).
    /// </summary>
    public sealed record Auto(double Percentile, double NormType = 2.0) : ClipPolicy
    {
        public override string ToString() => F($"auto:{Percentile}:{NormName(NormType)}");
    }

    /// <summary>The norm type reported as "the" gradient norm under this policy.</summary>
    public double ReportedNormType => this switch
    {
        GlobalNorm g => g.NormType,
        Auto a => a.NormType,
        _ => 2.0,
    };

    /// <summary>
    /// Parses a clip spec (see the type's summary).
    /// </summary>
    /// <exception cref="ArgumentException">Names the bad spec and what would be valid.</exception>
    public static ClipPolicy Parse(string spec)
    {
        var parts = spec.Trim().ToLowerInvariant().Split(':');
        string usage = $"Clip spec '{spec}' is not valid; use none, norm:C[:p], value:V, layer:C[:p], agc:λ[:all] or auto:P[:p] (C, V, λ > 0; 0 < P <= 100; p = 2, inf or >= 1).";
        double Number(int i, Func<double, bool> valid) =>
            parts.Length > i && double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x) && valid(x)
                ? x : throw new ArgumentException(usage);
        double NormAt(int i)
        {
            if (parts.Length <= i) return 2.0;
            try { return ParseNormType(parts[i]); } catch (ArgumentException) { throw new ArgumentException(usage); }
        }
        int MaxParts(int n) => parts.Length <= n ? n : throw new ArgumentException(usage);
        return parts[0] switch
        {
            "none" when parts.Length == 1 => None,
            "norm" when MaxParts(3) > 0 => new GlobalNorm(Number(1, x => x > 0), NormAt(2)),
            "value" when MaxParts(2) > 0 => new Value(Number(1, x => x > 0)),
            "layer" when MaxParts(3) > 0 => new PerLayer(Number(1, x => x > 0), NormAt(2)),
            "agc" when MaxParts(3) > 0 && (parts.Length < 3 || parts[2] == "all") => new Adaptive(Number(1, x => x > 0), parts.Length == 3),
            "auto" when MaxParts(3) > 0 => new Auto(Number(1, x => x > 0 && x <= 100), NormAt(2)),
            _ => throw new ArgumentException(usage),
        };
    }

    /// <summary>
    /// Parses a norm type: "2", "inf" (or "infinity"), or any number p ≥ 1.
    /// </summary>
    /// <exception cref="ArgumentException">Names the bad text and what would be valid.</exception>
    public static double ParseNormType(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t is "inf" or "infinity" or "+inf") return double.PositiveInfinity;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p >= 1 && double.IsFinite(p))
            return p;
        throw new ArgumentException($"Norm type '{text}' is not valid; use 2, inf, or a number p >= 1.");
    }

    private static string NormName(double p) => double.IsPositiveInfinity(p) ? "inf" : p.ToString(CultureInfo.InvariantCulture);
    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
