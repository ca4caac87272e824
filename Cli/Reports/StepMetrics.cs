// One step's line of a run's metrics file.
namespace DistClip.Cli.Reports;

/// <summary>One step of a run as metrics.jsonl recorded it (non-finite numbers were written as strings).</summary>
public sealed record StepMetrics(long Step, double Loss, double GradNorm, double GradNormClipped, bool Clipped, double Threshold);
