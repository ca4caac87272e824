// The end of a training run: its counts, and why it stopped early if it did.
namespace DistClip.Coordinator;

/// <summary>The end of a training run.</summary>
/// <param name="StoppedBecause">Why the run ended before its last step (<see cref="StopTraining"/>); null when it took every step.</param>
public sealed record TrainingSummary(long Steps, long SkippedSteps, long ClippedSteps, long Samples, double Seconds, long FinalVersion, string? StoppedBecause = null)
{
    public double SamplesPerSecond => Seconds > 0 ? Samples / Seconds : 0;
}
