// A local request to end a run at the last completed step (an interruption, an output that failed).
namespace DistClip.Coordinator;

/// <summary>
/// Ends the run now: the step in flight is dropped (nothing of it has touched the master weights), the
/// workers are told the run is over, and the summary reports <see cref="TrainingSummary.StoppedBecause"/>.
/// Waiting for workers, it ends the run before its first step. Sent by the hosting process, never remote.
/// </summary>
/// <param name="Reason">Why, as the summary and the log say it (for example "interrupted (SIGTERM)").</param>
public sealed record StopTraining(string Reason);
