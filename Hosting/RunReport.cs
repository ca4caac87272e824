// What a run achieved, as printed at its end and written to summary.json.
namespace DistClip.Hosting;

/// <summary>What a run achieved, as printed at the end and written to <c>summary.json</c> in the run directory.</summary>
/// <param name="Compute">The cluster's compute (the coordinator's fingerprint, which every admitted worker matched unless mixed compute was allowed).</param>
/// <param name="Robustness">The test split under each perturbation of <c>--eval-robustness</c> (null without it).</param>
public sealed record RunReport(string Clip, long Steps, long Samples, double Seconds, double SamplesPerSecond, double ClipRate,
    long SkippedSteps, double? TestLoss, double? TestAccuracy, double? TestR2 = null, string? Compute = null,
    IReadOnlyList<Models.Robustness.RobustnessFigure>? Robustness = null);
