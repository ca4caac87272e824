// The perturbation list of --robustness and --eval-robustness, parsed with the option's name in its error.
using DistClip.Models.Robustness;

namespace DistClip.Cli.Commands;

public static class RobustnessOption
{
    /// <exception cref="ArgumentException">Names the option and the bad spec.</exception>
    public static IReadOnlyList<Perturbation> Parse(string option, string specs)
    {
        try { return Perturbation.ParseList(specs); }
        catch (ArgumentException e) { throw new ArgumentException($"{option}: {e.Message}"); }
    }
}
