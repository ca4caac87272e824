// What a sweep chooses its best clip spec by (--select): the task's metric, or accuracy under a perturbation.
using DistClip.Models.Robustness;

namespace DistClip.Cli.Commands;

/// <summary>
/// <c>--select accuracy</c> (the default: the task's metric — accuracy, pixel accuracy, R² — on the judged data) or
/// <c>--select robust-acc:SPEC</c> (accuracy under perturbation <see cref="Under"/>, e.g. <c>robust-acc:fgsm:0.03</c>).
/// The highest wins; a tie goes to the spec listed first.
/// </summary>
public sealed record SweepObjective(Perturbation? Under)
{
    private const string Prefix = "robust-acc:";

    /// <exception cref="ArgumentException">Names <c>--select</c> and what would be valid.</exception>
    public static SweepObjective Parse(string text)
    {
        if (text == "accuracy") return new SweepObjective((Perturbation?)null);
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
            throw new ArgumentException($"--select '{text}' is not known; use accuracy or robust-acc:SPEC (e.g. robust-acc:fgsm:0.03).");
        var under = RobustnessOption.Parse("--select", text[Prefix.Length..]);
        if (under.Count != 1) throw new ArgumentException($"--select {text}: name one perturbation (e.g. robust-acc:fgsm:0.03).");
        return new SweepObjective(under[0]);
    }

    public string Describe(string judged, string metricName) => Under is null ? $"{judged} {metricName}" : $"{judged} {metricName} under {Under}";
}
