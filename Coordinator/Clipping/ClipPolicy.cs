// The clipping policies a user can choose, as immutable values.
namespace DistClip.Coordinator.Clipping;

/// <summary>How the coordinator clips the reduced (global) gradient before the optimizer step.</summary>
public abstract record ClipPolicy
{
    /// <summary>No clipping (the default). The pre-clip L2 norm is still reported.</summary>
    public static ClipPolicy None { get; } = new NoClip();

    public sealed record NoClip : ClipPolicy;

    /// <summary>
    /// PyTorch's <c>clip_grad_norm_(parameters, MaxNorm, NormType)</c> over all parameters.
    /// <paramref name="NormType"/> is p ≥ 1 or <see cref="double.PositiveInfinity"/>.
    /// </summary>
    public sealed record GlobalNorm(double MaxNorm, double NormType) : ClipPolicy;

    /// <summary>PyTorch's <c>clip_grad_value_(parameters, Limit)</c>: every element clamped to [-Limit, Limit].</summary>
    public sealed record Value(double Limit) : ClipPolicy;

    /// <summary>The norm type reported as "the" gradient norm under this policy.</summary>
    public double ReportedNormType => this is GlobalNorm g ? g.NormType : 2.0;

    /// <summary>
    /// Parses a norm type: "2", "inf" (or "infinity"), or any number p ≥ 1.
    /// </summary>
    /// <exception cref="ArgumentException">Names the bad text and what would be valid.</exception>
    public static double ParseNormType(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t is "inf" or "infinity" or "+inf") return double.PositiveInfinity;
        if (double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var p) && p >= 1 && double.IsFinite(p))
            return p;
        throw new ArgumentException($"Norm type '{text}' is not valid; use 2, inf, or a number p >= 1.");
    }
}
