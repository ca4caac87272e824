// What the coordinator reports after each step.
namespace DistClip.Coordinator;

/// <summary>One finished step, as logged and written to the metrics file.</summary>
/// <param name="Loss">Mean loss over the global batch (Σ loss sums / Σ samples).</param>
/// <param name="Seconds">Wall time of the step, from planning to the optimizer step.</param>
/// <param name="BadShards">Shard results that were not finite where another worker's were: refused and computed again.</param>
public sealed record StepReport(long Step, int Epoch, double Loss, int Samples, int Shards, StepOutcome Outcome, double Seconds, int BadShards = 0);

