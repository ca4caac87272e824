// What hosts are told as a run goes: each step, each admitted worker.
using DistClip.Exchange;

namespace DistClip.Coordinator;

/// <summary>Receives each step's report; called on the coordinator's thread, so it must be quick.</summary>
public interface ITrainingObserver
{
    void OnStep(StepReport report);

    /// <summary>A worker was admitted; its results count from the next step boundary.</summary>
    void OnWorkerAdmitted(string worker, string device, LinkKind link) { }
}
