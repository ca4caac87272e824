// The end of a training run: its counts, and why it stopped early if it did.
namespace DistClip.Coordinator;

/// <summary>The end of a training run.</summary>
/// <param name="StoppedBecause">Why the run ended before its last step (<see cref="StopTraining"/>); null when it took every step.</param>
/// <param name="SamplesBefore">Samples of the steps a resumed run took before this process (in <paramref name="Samples"/>, not in <paramref name="Seconds"/>).</param>
public sealed record TrainingSummary(long Steps, long SkippedSteps, long ClippedSteps, long Samples, double Seconds, long FinalVersion, string? StoppedBecause = null,
    long SamplesBefore = 0)
{
    /// <summary>Throughput of this process: the samples it trained over its seconds.</summary>
    public double SamplesPerSecond => Seconds > 0 ? (Samples - SamplesBefore) / Seconds : 0;
}
