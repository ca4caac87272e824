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
    private JoinGate<IActorRef>? _gate;   // then: who proved the join secret (when there is one) before being told

    public JobHost()
    {
        Receive<RunJob>(OnRunJob);
        Receive<JoinRequest>(OnJoinRequest);
        Receive<JobFinished>(_ => OnJobFinished());
        Receive<NoMoreJobs>(OnNoMoreJobs);
        Receive<JoinProof>(OnJoinProof);
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
        (_over, _gate) = (over, new JoinGate<IActorRef>(over.Secret));
        _log.Info("No further job; telling {0} waiting worker(s) that the run is over", _waiting.Count);
        foreach (var (request, sender) in _waiting) TellRunOver(request, sender);
        _waiting.Clear();
    }

    /// <summary>After the last job: a worker that asks to join is told the run is over — once it proved the join secret, if there is one.</summary>
    private void TellRunOver(JoinRequest request, IActorRef worker)
    {
        if (_gate!.Challenge(worker, request.Nonce) is { } challenge) worker.Tell(challenge, Self);
        else worker.Tell(RunOver(worker), Self);
    }

    private void OnJoinProof(JoinProof proof)
    {
        if (_gate is null) return;   // proofs of a running job go to its coordinator, which challenged them
        if (!_gate.Challenged(Sender) && _gate.Challenge(Sender) is { } again)
        {
            Sender.Tell(again, Self);
            return;
        }
        if (_gate.Check(Sender, Sender.Path.ToString(), proof) is { } why)
        {
            _log.Error("Refused worker {0} at {1}: {2}", proof.WorkerName, Sender.Path.Address, why);
            Sender.Tell(new WorkerRefused(why), Self);
            return;
        }
        Sender.Tell(RunOver(Sender), Self);
    }

    /// <summary>The run's end, with the proof of the secret over the worker's nonce that a worker with a secret requires.</summary>
    private TrainingFinished RunOver(IActorRef worker)
    {
        var self = Self.Path.ToStringWithAddress(((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
        var proof = _gate!.CoordinatorProof(worker, self);
        _gate.Forget(worker);
        return new TrainingFinished(_over!.Steps, CoordinatorProof: proof);
    }

    private void OnJoinRequest(JoinRequest request)
    {
        if (_over is not null) TellRunOver(request, Sender);
        else if (_current is not null) _current.Forward(request);
        else if (!_waiting.Any(w => w.Sender.Equals(Sender))) _waiting.Add((request, Sender));
    }
}
