// Several training observers as one; one that cannot write any more stops the run instead of crashing the coordinator.
using DistClip.Coordinator;
using DistClip.Exchange;

namespace DistClip.Hosting;

/// <summary>
/// Forwards every report to each observer. An observer whose write fails (<see cref="IOException"/>: a
/// full disk, a lost mount) is dropped, and the run is asked to stop at the last completed step with
/// exit code 1, so that the weights trained so far can still be saved; the coordinator never sees the error.
/// </summary>
public sealed class Observers(StopRequest? stop, params ITrainingObserver[] observers) : ITrainingObserver
{
    private readonly List<ITrainingObserver> _active = [.. observers];

    public void OnStep(StepReport report) => Each(o => o.OnStep(report));

    public void OnWorkerAdmitted(string worker, string device, LinkKind link) => Each(o => o.OnWorkerAdmitted(worker, device, link));

    public void OnWorkerLeft(string worker) => Each(o => o.OnWorkerLeft(worker));

    private void Each(Action<ITrainingObserver> call)
    {
        foreach (var observer in _active.ToArray())
        {
            try { call(observer); }
            catch (IOException e) when (stop is not null)
            {
                _active.Remove(observer);
                stop.Request(e.Message, ExitCodes.RunTimeFailure);
            }
        }
    }
}
