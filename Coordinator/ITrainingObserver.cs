// What hosts are told as a run goes: each step, each worker admitted or gone.
using DistClip.Exchange;

namespace DistClip.Coordinator;

/// <summary>Receives each step's report; called on the coordinator's thread, so it must be quick.</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport report);

    /// <summary>A worker was admitted; its results count from the next step boundary.</summary>
    void OnWorkerAdmitted(string worker, string device, LinkKind link) { }

    /// <summary>An admitted worker left the run (lost, unreachable, or removed); its shards go to the others.</summary>
    void OnWorkerLeft(string worker) { }
}
