// The perturbations a robustness evaluation applies to its inputs, and their spec syntax (gauss:σ, fgsm:ε, pgd:ε:steps).
using System.Globalization;

namespace DistClip.Models.Robustness;

/// <summary>
/// One input perturbation, in pixel units: the images' valid range is [0, 1] before normalisation, and every
/// perturbed image is clamped back into it. <see cref="Gauss"/> adds seeded noise N(0, σ²) per pixel;
/// <see cref="Fgsm"/> and <see cref="Pgd"/> are the L∞ attacks of Goodfellow et al. (2015) and Madry et al. (2018)
/// with budget ε.
/// </summary>
public abstract record Perturbation
{
    private Perturbation() { }

    /// <summary>Gaussian noise of standard deviation <paramref name="Sigma"/> per pixel.</summary>
    public sealed record Gauss(double Sigma) : Perturbation
    {
        public override string ToString() => F($"gauss:{Sigma}");
    }

    /// <summary>FGSM: x + ε·sign(∇ₓL(f(x), y)), one step.</summary>
    public sealed record Fgsm(double Epsilon) : Perturbation
    {
        public override string ToString() => F($"fgsm:{Epsilon}");
    }

    /// <summary>PGD: a uniform random start in the ε-ball, then <paramref name="Steps"/> signed-gradient steps of ε/4, each projected back onto the ball.</summary>
    public sealed record Pgd(double Epsilon, int Steps) : Perturbation
    {
        public override string ToString() => F($"pgd:{Epsilon}:{Steps}");
    }

    /// <summary>Whether this is a gradient attack (its budget is an L∞ radius, reported after normalisation too).</summary>
    public bool IsAttack => this is Fgsm or Pgd;

    /// <summary>The L∞ radius of an attack, in pixel units; null for noise.</summary>
    public double? Budget => this switch { Fgsm f => f.Epsilon, Pgd p => p.Epsilon, _ => null };

    private const string Usage = "use gauss:σ, fgsm:ε or pgd:ε:steps (σ, ε > 0 in pixel units of the [0, 1] range, steps ≥ 1), separated by commas";

    /// <summary>Parses one spec, e.g. <c>gauss:0.1</c>, <c>fgsm:0.03</c>, <c>pgd:0.03:10</c>.</summary>
    /// <exception cref="ArgumentException">Names the spec and says what would be valid.</exception>
    public static Perturbation Parse(string spec)
    {
        var bits = spec.Trim().Split(':');
        double Size(string what)
        {
            if (bits.Length < 2 || !double.TryParse(bits[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw new ArgumentException($"perturbation '{spec}' has no number for {what}; {Usage}.");
            if (v <= 0) throw new ArgumentException($"perturbation '{spec}': {what} must be greater than 0 (got {bits[1]}); {Usage}.");
            return v;
        }
        return bits[0] switch
        {
            "gauss" when bits.Length == 2 => new Gauss(Size("σ")),
            "fgsm" when bits.Length == 2 => new Fgsm(Size("ε")),
            "pgd" when bits.Length == 3 => new Pgd(Size("ε"), int.TryParse(bits[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var steps) && steps >= 1
                ? steps : throw new ArgumentException($"perturbation '{spec}': steps must be a whole number of at least 1 (got '{bits[2]}'); {Usage}.")),
            "gauss" or "fgsm" or "pgd" => throw new ArgumentException($"perturbation '{spec}' has the wrong number of parts; {Usage}."),
            _ => throw new ArgumentException($"perturbation '{spec}' is not known; {Usage}."),
        };
    }

    /// <summary>Parses a comma-separated list of specs; duplicates are kept once, in their first place.</summary>
    public static IReadOnlyList<Perturbation> ParseList(string specs)
    {
        var list = specs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).Distinct().ToList();
        if (list.Count == 0) throw new ArgumentException($"no perturbation given; {Usage}.");
        return list;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
