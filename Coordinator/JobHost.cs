// Runs training jobs one after another on one cluster: the singleton that workers' join requests reach.
using Akka.Actor;
using Akka.Event;
using DistClip.Protocol;

namespace DistClip.Coordinator;

/// <summary>
/// The cluster singleton of the coordinator role. Each <see cref="RunJob"/> starts a
/// <see cref="CoordinatorActor"/> as its child; workers' <see cref="JoinRequest"/>s (through their
/// singleton proxies) are forwarded to the current job, or held until the next job starts. Workers
/// rejoin after each job, so one set of worker processes serves a whole sweep. After <see cref="NoMoreJobs"/>, a join
/// request is answered with <see cref="TrainingFinished"/>: the run is over, nothing is left to join.
/// </summary>
public sealed class JobHost : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<(JoinRequest Request, IActorRef Sender)> _waiting = [];
    private IActorRef? _current;
    private int _jobs;
    private NoMoreJobs? _over;   // set once the node's last job has completed

    public JobHost()
    {
        Receive<RunJob>(OnRunJob);
        Receive<JoinRequest>(OnJoinRequest);
        Receive<JobFinished>(_ => OnJobFinished());
        Receive<NoMoreJobs>(OnNoMoreJobs);
        Receive<StopTraining>(stop => _current?.Forward(stop));
        Receive<WorkerNodeReachability>(r => _current?.Forward(r));
        Receive<Terminated>(t => { if (t.ActorRef.Equals(_current)) _current = null; });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new JobHost());

    private void OnRunJob(RunJob job)
    {
        if (_current is not null) Context.Stop(_current);   // a new job replaces an unfinished one
        _over = null;
        _current = Context.ActorOf(job.Coordinator, $"job-{++_jobs}");
        Context.Watch(_current);
        _log.Info("Job {0} started; forwarding {1} waiting worker(s)", _jobs, _waiting.Count);
        foreach (var (request, sender) in _waiting) _current.Tell(request, sender);
        _waiting.Clear();
    }

    private void OnJobFinished()
    {
        if (!Sender.Equals(_current)) return;
        Context.Stop(_current);  // frees its bulk channel's port for the next job
        _current = null;
    }

    private void OnNoMoreJobs(NoMoreJobs over)
    {
        _over = over;
        _log.Info("No further job; telling {0} waiting worker(s) that the run is over", _waiting.Count);
        foreach (var (_, sender) in _waiting) sender.Tell(new TrainingFinished(over.Steps), Self);
        _waiting.Clear();
    }

    private void OnJoinRequest(JoinRequest request)
    {
        if (_over is { } over) Sender.Tell(new TrainingFinished(over.Steps), Self);
        else if (_current is not null) _current.Forward(request);
        else if (!_waiting.Any(w => w.Sender.Equals(Sender))) _waiting.Add((request, Sender));
    }
}
