// What the coordinator reports after each step and at the end of training.
namespace DistClip.Coordinator;

/// <summary>One finished step, as logged and written to the metrics file.</summary>
/// <param name="Loss">Mean loss over the global batch (Σ loss sums / Σ samples).</param>
/// <param name="Seconds">Wall time of the step, from planning to the optimizer step.</param>
public sealed record StepReport(long Step, int Epoch, double Loss, int Samples, int Workers, StepOutcome Outcome, double Seconds);

/// <summary>The end of a training run.</summary>
/// <param name="StoppedBecause">Why the run ended before its last step (<see cref="StopTraining"/>); null when it took every step.</param>
public sealed record TrainingSummary(long Steps, long SkippedSteps, long ClippedSteps, long Samples, double Seconds, long FinalVersion, string? StoppedBecause = null)
{
    public double SamplesPerSecond => Seconds > 0 ? Samples / Seconds : 0;
}

/// <summary>How a worker's gradients and parameters travel.</summary>
public enum Exchange
{
    /// <summary>By reference, inside one process.</summary>
    InProcess,
    /// <summary>Through segments in /dev/shm both processes map (the worker is on the coordinator's host).</summary>
    SharedMemory,
    /// <summary>As frames on the bulk TCP channel.</summary>
    BulkChannel,
    /// <summary>As chunks through Akka.Remote (neither end has a bulk channel).</summary>
    Chunks,
}

/// <summary>Receives each step's report; called on the coordinator's thread, so it must be quick.</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport report);

    /// <summary>A worker was admitted; its results count from the next step boundary.</summary>
    void OnWorkerAdmitted(string worker, string device, Exchange exchange) { }
}
