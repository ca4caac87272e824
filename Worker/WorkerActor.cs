// The worker actor: joins the coordinator, keeps its replica at the master's version, computes shards.
using Akka.Actor;
using Akka.Event;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Exchange;
using TorchSharp;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Worker;

/// <summary>
/// One model replica on one device, in two states. <see cref="Joining"/>: it has asked to join
/// (<see cref="JoinRequest"/>) and waits for a <see cref="JobOffer"/>, from which it builds the replica and
/// its link to the coordinator, and registers. <see cref="Serving"/>: it loads every parameter version its
/// link delivers and answers each <see cref="ComputeGradients"/> with the shard's gradient sum — or with
/// <see cref="ShardRefused"/> when its parameters are not at the step's version — until the job ends and it
/// asks to join the next one. Parameters that travel on the bulk channel may arrive just after the request that needs
/// them (the request comes through Akka.Remote): such a request waits for them, up to <see cref="ParametersGrace"/>.
/// How parameters and gradients travel is the link's business
/// (<see cref="CoordinatorLink"/>). Run it on <see cref="AkkaDefaults.WorkerDispatcher"/>: the tensor work blocks its thread.
/// </summary>
public sealed partial class WorkerActor : ReceiveActor, IWithTimers
{
    /// <summary>What <see cref="WorkerSettings.JobEnded"/> is told while a job is served: should the coordinator leave now, the run did not complete.</summary>
    public const string JobInProgress = "the coordinator left while the run was in progress";

    /// <summary>How long a request waits for parameters on their way before it is refused (and they are sent again).</summary>
    public static readonly TimeSpan ParametersGrace = TimeSpan.FromSeconds(5);

    /// <summary>The parameters of a waiting request did not arrive within <see cref="ParametersGrace"/> (local only, a timer's).</summary>
    private sealed record ParametersOverdue((long Step, int Shard, long Version) Request);

    /// <summary>What makes requests the same: one asked again (after the coordinator's deadline) waits once, not twice.</summary>
    private static (long Step, int Shard, long Version) KeyOf(ComputeGradients r) => (r.Step, r.Shard, r.Version);

    /// <summary>What the worker holds while it serves a job.</summary>
    /// <param name="Stepper">In the sharded exchange: the replica of the whole training state this worker steps (it owns <paramref name="Model"/>); null in the central one.</param>
    private sealed record Replica(nn.Module<Tensor, Tensor> Model, FlatParameters Flat, ShardGradientComputer Computer, CoordinatorLink Link,
        Training.State.ModelReplica? Stepper = null) : IDisposable
    {
        public void Dispose()
        {
            Link.Dispose();
            if (Stepper is not null) Stepper.Dispose();
            else Model.Dispose();
        }
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinator;
    private readonly WorkerSettings _settings;
    private readonly Func<JobSpec, IImageDataset> _dataFor;
    private readonly ExchangeSettings? _exchange;
    private Replica? _replica;       // set while Serving
    private IActorRef? _jobCoordinator;  // the coordinator of the job served: the only sender listened to while Serving
    private IActorRef? _challenger;      // the coordinator that challenged this worker (with a join secret): the only one whose offer counts
    private byte[]? _nonce;              // with a join secret: what the coordinator's offer must prove the secret over
    private long _version = -1;
    private readonly List<(ComputeGradients Request, IActorRef Coordinator)> _early = [];  // requests whose parameters are on their way

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="coordinator">The coordinator, or a proxy to it (a cluster singleton proxy).</param>
    /// <param name="dataFor">This node's training split for a job.</param>
    /// <param name="exchange">Where to open this worker's bulk channel and shared segments; null inside one process.</param>
    public WorkerActor(IActorRef coordinator, WorkerSettings settings, Func<JobSpec, IImageDataset> dataFor, ExchangeSettings? exchange = null)
    {
        (_coordinator, _settings, _dataFor, _exchange) = (coordinator, settings, dataFor, exchange);
        Joining();
    }

    public static Props Props(IActorRef coordinator, WorkerSettings settings, Func<JobSpec, IImageDataset> dataFor, ExchangeSettings? exchange = null) =>
        Akka.Actor.Props.Create(() => new WorkerActor(coordinator, settings, dataFor, exchange));

    protected override void PreStart()
    {
        // Intra-op threads are per OS thread (OpenMP); its dispatcher gives this actor its own.
        if (_settings.Cpus is { } cpus) CpuAffinity.PinCurrentThread(cpus);  // before OpenMP starts threads: they inherit it
        set_num_threads(_settings.Threads);
        AskToJoin();
    }

    protected override void PostStop()
    {
        _replica?.Dispose();
        _settings.Admitted?.Invoke(false);
    }

    /// <summary>Waiting for a job.</summary>
    private void Joining()
    {
        Receive<JoinChallenge>(OnChallenge);
        Receive<JobOffer>(OnJobOffer);
        Receive<WorkerRefused>(r => _challenger is null || Sender.Equals(_challenger), OnRefused);
        // The answer to a request to join when the coordinator's last job has completed (JobHost, NoMoreJobs); with a join
        // secret, believed only from the coordinator that challenged this worker and proved the secret in turn.
        Receive<TrainingFinished>(f => f.StoppedBecause is null && !f.GivenUp, OnRunOver);
        Receive<TrainingFinished>(f => f.GivenUp, _ => { });   // given up on while it was gone: it is joining again already
        Receive<ComputeGradients>(r => Sender.Tell(new ShardRefused(r.Step, r.Shard, $"{_settings.Name} has no replica yet")));
        Receive<IDataPlaneMessage>(_ => { });  // a late transfer of the job that ended
    }

    /// <summary>
    /// Holding a replica: loading parameters, computing shards, until the job ends. Only the job's coordinator is
    /// listened to (and the bulk channel, whose frames carry the run's token): anyone else could end the job or load
    /// parameters of their own.
    /// </summary>
    private void Serving()
    {
        Receive<BulkArrival>(m => m.Message.Kind is Exchange.Bulk.BulkKind.ShardRange or Exchange.Bulk.BulkKind.ReducedRange, OnPeerRange);
        Receive<BulkArrival>(m => m.Message.Kind == Exchange.Bulk.BulkKind.State, OnStatePiece);
        Receive<BulkArrival>(m => Load(m));
        Receive<ParametersOverdue>(OnParametersOverdue);
        Receive<object>(_ => !Sender.Equals(_jobCoordinator), m => _log.Warning("Worker {0} ignored {1} from {2}: not its coordinator", _settings.Name, m.GetType().Name, Sender.Path));
        Receive<WorkerAdmitted>(OnAdmitted);
        Receive<WorkerRefused>(OnRefused);
        Receive<IDataPlaneMessage>(Load);
        Receive<ComputeGradients>(OnComputeGradients);
        Receive<StepRanges>(OnStepRanges);
        Receive<ClipDecided>(OnClipDecided);
        Receive<ReplicaStateChunk>(OnStateChunk);
        Receive<TrainingFinished>(finished =>
        {
            _settings.JobEnded?.Invoke(finished.StoppedBecause);
            ReadyForNextJob();
        });
        Receive<JobOffer>(_ => { });  // a repeated offer
    }

    private void Load(IDataPlaneMessage message)
    {
        if (_replica!.Link.Load(message, _replica.Flat, _version) is not { } version) return;
        _version = version;
        ServeWaiting();
    }

    /// <summary>Serves the requests that waited for what has now arrived (parameters, or in the sharded exchange the step before).</summary>
    private void ServeWaiting()
    {
        foreach (var early in _early.Where(e => !MustWait(e.Request)).ToList())
        {
            _early.Remove(early);
            Timers.Cancel(KeyOf(early.Request));
            Serve(early.Request, early.Coordinator);
        }
    }

    /// <summary>Whether <paramref name="request"/> needs what is still on its way: parameters of its version, or (sharded) the steps before it.</summary>
    private bool MustWait(ComputeGradients request) =>
        _replica!.Stepper is not null ? _stepsDone < request.Step || request.Version > _version : request.Version > _version;

    private void AskToJoin()
    {
        _nonce = _settings.Secret is null ? null : JoinSecret.NewNonce();
        _coordinator.Tell(new JoinRequest(_settings.Name, _settings.Device, ProtocolVersion.Current, _nonce));
    }

    /// <summary>The coordinator wants proof of the cluster's join secret before it says anything of the run.</summary>
    private void OnChallenge(JoinChallenge challenge)
    {
        if (_settings.Secret is not { } secret)
        {
            OnRefused(new WorkerRefused("the coordinator requires the cluster's join secret; start this worker with --secret-file (or DISTCLIP_SECRET_FILE)"));
            return;
        }
        _challenger = Sender;
        var address = Self.Path.ToStringWithAddress(((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
        Sender.Tell(new JoinProof(_settings.Name, secret.Proof(challenge.Nonce, _settings.Name, address)));
    }

    private void OnJobOffer(JobOffer offer)
    {
        if (_settings.Secret is { } secret && !(Sender.Equals(_challenger) && offer.CoordinatorProof is { } proof
                && secret.Verifies(_nonce!, JoinSecret.CoordinatorName, Sender.Path.ToString(), proof)))
        {
            _log.Warning("Worker {0} ignored a job offer from {1}: it did not prove the cluster's join secret", _settings.Name, Sender.Path);
            return;
        }
        _jobCoordinator = Sender;
        _job = offer.Job;
        _device = new Device(_settings.Device);
        var augmentation = offer.Job.Augmentation;
        _augmenter = augmentation is null || augmentation.IsNone ? null : new Augmenter(augmentation, offer.Job.DataSeed);
        _data = _dataFor(offer.Job);
        var (model, flat, computer, stepper) = BuildReplica();
        string? dataHash = offer.Job.DataChallenge is { } challenge ? DataFingerprint.Of(_data, challenge) : null;
        var log = _log;
        var link = CoordinatorLink.Open(offer, _exchange, _settings.Name, (int)flat.ExchangeLength, Self, m => log.Info(m), m => log.Warning(m));
        _replica = new Replica(model, flat, computer, link, stepper);
        if (stepper is not null) _peers = new PeerLinks(link, Self, path => Context.ActorSelection(path), m => log.Warning(m), _exchange?.Traffic, _settings.Name);
        Become(Serving);
        Sender.Tell(new RegisterWorker(_settings.Name, flat.Signature, _settings.Device, link.BulkEndpoint, link.SharedMemoryPath, link.SharedMemorySlots,
            ComputeFingerprint.Of(_settings.Device, _settings.Threads), dataHash, _data.Count));
    }

    private void OnAdmitted(WorkerAdmitted admitted)
    {
        _log.Info("Worker {0} admitted at parameter version {1}{2}", _settings.Name, admitted.Version, admitted.SharedMemory ? ", exchanging through shared memory" : "");
        _settings.JobEnded?.Invoke(JobInProgress);   // until the coordinator says the run completed, it has not
        _replica!.Link.OnAdmitted(admitted.SharedMemory);
        _settings.Admitted?.Invoke(true);
    }

    private void OnRunOver(TrainingFinished finished)
    {
        if (_settings.Secret is { } secret && !(Sender.Equals(_challenger) && finished.CoordinatorProof is { } proof
                && secret.Verifies(_nonce!, JoinSecret.CoordinatorName, Sender.Path.ToString(), proof)))
        {
            _log.Warning("Worker {0} ignored the end of the run from {1}: it did not prove the cluster's join secret", _settings.Name, Sender.Path);
            return;
        }
        _log.Info("Worker {0}: the run is over ({1} steps); nothing left to join", _settings.Name, finished.Steps);
        _settings.RunOver?.Invoke(finished.Steps);
        Context.Stop(Self);
    }

    private void OnRefused(WorkerRefused refused)
    {
        _log.Error("Worker {0} was refused by the coordinator: {1}", _settings.Name, refused.Reason);
        _settings.Refused?.Invoke(refused);
        Context.Stop(Self);
    }

    private void OnComputeGradients(ComputeGradients request)
    {
        var replica = _replica!;
        if (replica.Stepper is null && request.Version > _version && replica.Link.TryLoad(request.Version, replica.Flat)) _version = request.Version;
        if (MustWait(request) && (replica.Link.ParametersTravelApart || replica.Stepper is not null))
        {
            var key = KeyOf(request);
            if (_early.Exists(e => KeyOf(e.Request) == key)) return;   // asked again while it waits: it is served once
            _early.Add((request, Sender));
            Timers.StartSingleTimer(key, new ParametersOverdue(key), ParametersGrace);
            return;
        }
        Serve(request, Sender);
    }

    private void OnParametersOverdue(ParametersOverdue overdue)
    {
        var index = _early.FindIndex(e => KeyOf(e.Request) == overdue.Request);
        if (index < 0) return;
        var (request, coordinator) = _early[index];
        _early.RemoveAt(index);
        Serve(request, coordinator);   // still behind: refused, and the coordinator sends the parameters again
    }

    /// <summary>Computes the shard and sends its sum to <paramref name="coordinator"/>, or refuses it when the replica is not at the request's version.</summary>
    private void Serve(ComputeGradients request, IActorRef coordinator)
    {
        var replica = _replica!;
        if (request.Version != _version || (replica.Stepper is not null && _stepsDone != request.Step))
        {
            coordinator.Tell(new ShardRefused(request.Step, request.Shard, replica.Stepper is null
                ? $"{_settings.Name} holds parameter version {_version}, the step needs {request.Version}"
                : $"{_settings.Name} holds parameter version {_version} after {_stepsDone} steps, step {request.Step} needs version {request.Version}"));
            return;
        }
        if (replica.Stepper is not null)
        {
            ServeSharded(request, coordinator);
            return;
        }
        replica.Link.SendGradients(coordinator, request, sum =>
        {
            double loss = replica.Computer.ComputeInto(request.SampleIndices, request.Epoch, sum);
            if (_settings.SendsNaN) sum.Fill(float.NaN);
            return loss;
        });
        _settings.Served?.Invoke(request.Step);
    }

    /// <summary>
    /// A job ended: drop the replica and ask to join again, so that one set of worker processes serves
    /// job after job (a sweep). The worker's host decides when the process ends.
    /// </summary>
    private void ReadyForNextJob()
    {
        _settings.Admitted?.Invoke(false);
        _replica?.Dispose();
        (_replica, _version, _jobCoordinator, _challenger) = (null, -1, null, null);
        _early.Clear();
        ForgetSharded();
        Timers.CancelAll();
        Become(Joining);
        AskToJoin();
    }
}
