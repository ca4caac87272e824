// Where the coordinator hands its state at step boundaries, to be kept on disk.
namespace DistClip.Coordinator;

/// <summary>
/// Keeps the coordinator's training state. Called on the coordinator's thread between steps, when the master weights
/// hold exactly <see cref="RunCounters.Steps"/> completed steps; an <see cref="IOException"/> ends the run.
/// </summary>
public interface ICheckpointWriter
{
    /// <summary>After every completed step; writes when its interval says so.</summary>
    void OnStepCompleted(RunCounters counters, MasterWeights master);

    /// <summary>When the run ends, at its last step or early (a signal): always writes.</summary>
    void OnRunEnded(RunCounters counters, MasterWeights master);
}
