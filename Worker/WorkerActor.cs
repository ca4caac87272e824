// The worker actor: joins the coordinator, keeps its replica at the master's version, computes shards.
using Akka.Actor;
using Akka.Event;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Protocol.Bulk;
using DistClip.Protocol.Wire;
using TorchSharp;
using static TorchSharp.torch;

namespace DistClip.Worker;

/// <summary>
/// One model replica on one device. It asks to join (<see cref="JoinRequest"/>), builds the replica
/// the <see cref="JobOffer"/> describes and registers it, loads every <see cref="ParameterUpdate"/>
/// (whole, or reassembled from chunks), and answers each <see cref="ComputeGradients"/> with the
/// shard's gradient sum — or with <see cref="ShardRefused"/> when its parameters are not at the step's
/// version. Run it on a pinned dispatcher: the tensor work blocks its thread.
/// </summary>
public sealed class WorkerActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinator;
    private readonly WorkerSettings _settings;
    private readonly Func<TrainingJob, IImageDataset> _dataFor;
    private readonly ChunkAssembler<long> _parameterChunks = new();
    private readonly BulkSettings? _bulkSettings;
    private BulkChannel? _bulk;              // this worker's end of the bulk data plane (remote deployments)
    private SharedMemoryLink? _shared;       // instead, when the coordinator is on this host
    private bool _sharedAdmitted;            // the coordinator mapped our gradient segment
    private JobOffer? _offer;
    private nn.Module<Tensor, Tensor>? _model;
    private FlatParameters? _flat;
    private ShardGradientComputer? _computer;
    private long _version = -1;

    /// <param name="coordinator">The coordinator, or a proxy to it (a cluster singleton proxy).</param>
    /// <param name="dataFor">This node's training split for a job.</param>
    /// <param name="bulk">Where to open a bulk channel for parameters; null inside one process.</param>
    public WorkerActor(IActorRef coordinator, WorkerSettings settings, Func<TrainingJob, IImageDataset> dataFor, BulkSettings? bulk = null)
    {
        (_coordinator, _settings, _dataFor, _bulkSettings) = (coordinator, settings, dataFor, bulk);
        Receive<JobOffer>(OnJobOffer);
        Receive<WorkerAdmitted>(OnAdmitted);
        Receive<WorkerRefused>(OnRefused);
        Receive<ParameterUpdate>(Load);
        Receive<ParameterChunk>(OnParameterChunk);
        Receive<ParametersShared>(OnParametersShared);
        Receive<BulkArrival>(OnBulkArrival);
        Receive<ComputeGradients>(OnComputeGradients);
        Receive<TrainingFinished>(_ => ReadyForNextJob());
    }

    public static Props Props(IActorRef coordinator, WorkerSettings settings, Func<TrainingJob, IImageDataset> dataFor, BulkSettings? bulk = null) =>
        Akka.Actor.Props.Create(() => new WorkerActor(coordinator, settings, dataFor, bulk));

    protected override void PreStart()
    {
        // Intra-op threads are per OS thread (OpenMP); the pinned dispatcher gives this actor its own.
        if (_settings.Cpus is { } cpus) CpuAffinity.PinCurrentThread(cpus);  // before OpenMP starts threads: they inherit it
        set_num_threads(_settings.Threads);
        _coordinator.Tell(new JoinRequest(_settings.Name, _settings.Device, ProtocolVersion.Current));
    }

    /// <summary>
    /// A job ended: drop the replica and ask to join again, so that one set of worker processes serves
    /// job after job (a sweep). The worker's host decides when the process ends.
    /// </summary>
    private void ReadyForNextJob()
    {
        _bulk?.Dispose();
        _shared?.Dispose();
        _model?.Dispose();
        (_bulk, _shared, _sharedAdmitted, _model, _flat, _computer, _offer, _version) = (null, null, false, null, null, null, null, -1);
        _parameterChunks.Forget(_ => true);
        _coordinator.Tell(new JoinRequest(_settings.Name, _settings.Device, ProtocolVersion.Current));
    }

    protected override void PostStop()
    {
        _bulk?.Dispose();
        _shared?.Dispose();
        _model?.Dispose();
    }

    private void OnJobOffer(JobOffer offer)
    {
        if (_model is not null) return;  // a repeated offer
        var device = new Device(_settings.Device);
        _model = ModelZoo.Create(offer.Job.Model, seed: 0).to(device);  // values arrive from the coordinator
        _model.train();
        _flat = new FlatParameters(_model);
        var augmentation = offer.Job.Augmentation;
        var augmenter = augmentation is null || augmentation.IsNone ? null : new Augmenter(augmentation, offer.Job.DataSeed);
        _computer = new ShardGradientComputer(_model, _flat, _dataFor(offer.Job), device, offer.Job.MicroBatch, augmenter);
        _offer = offer;
        if (_bulkSettings is not null && offer.BulkEndpoint is not null)
        {
            var self = Self;
            var log = _log;
            _bulk = _bulkSettings.Open((int)_flat.ExchangeLength, m => self.Tell(new BulkArrival(m)), w => log.Warning(w));
        }
        if (_bulkSettings is { SharedMemory: true } && offer.SharedMemoryPath is not null)
        {
            _shared = SharedMemoryLink.TryOpen(offer, _bulkSettings.SharedMemoryDirectory!, _settings.Name, (int)_flat.ExchangeLength, out var why);
            if (why is not null) _log.Info("Worker {0} exchanges through the bulk channel: no shared memory with the coordinator ({1})", _settings.Name, why);
        }
        Sender.Tell(new RegisterWorker(_settings.Name, _flat.Signature, _settings.Device, _bulk?.Endpoint, _shared?.GradientsPath));
    }

    private void OnAdmitted(WorkerAdmitted admitted)
    {
        _log.Info("Worker {0} admitted at parameter version {1}{2}", _settings.Name, admitted.Version, admitted.SharedMemory ? ", exchanging through shared memory" : "");
        if (_shared is null) return;
        if (admitted.SharedMemory) { _shared.OnAdmitted(); _sharedAdmitted = true; }
        else { _shared.Dispose(); _shared = null; }
    }

    private void OnParametersShared(ParametersShared update)
    {
        if (_shared is null || _flat is null || update.Version <= _version) return;
        if (_shared.TryLoad(update.Version, _flat)) _version = update.Version;
        else _log.Warning("Worker {0}: the shared parameters moved past version {1} while loading; waiting for the next", _settings.Name, update.Version);
    }

    private void Load(ParameterUpdate update)
    {
        if (_flat is null || update.Version <= _version) return;  // not built yet, or a late or duplicate broadcast
        _flat.WriteValues(update.Values);
        _version = update.Version;
        _parameterChunks.Forget(v => v <= _version);
    }

    private void OnParameterChunk(ParameterChunk chunk)
    {
        if (chunk.Version <= _version) return;
        var values = _parameterChunks.Add(chunk.Version, chunk.ElementCount, chunk.ChunkCount, chunk.Offset, chunk.Data, out var rejection);
        if (rejection is not null) _log.Warning("Worker {0} dropped a parameter chunk: {1}", _settings.Name, rejection);
        if (values is not null) Load(new ParameterUpdate(chunk.Version, values));
    }

    private void OnBulkArrival(BulkArrival arrival)
    {
        var m = arrival.Message;
        if (m.Token != _offer?.BulkToken || m.Kind != BulkKind.Parameters) { _log.Warning("Worker {0} dropped a bulk frame that is not its coordinator's parameters", _settings.Name); return; }
        Load(m.AsParameters());
        _bulk?.Buffers.Return(m.Values);  // copied into the replica
    }

    private void OnRefused(WorkerRefused refused)
    {
        _log.Error("Worker {0} was refused by the coordinator: {1}", _settings.Name, refused.Reason);
        Context.Stop(Self);
    }

    private void OnComputeGradients(ComputeGradients request)
    {
        if (_sharedAdmitted && request.Version > _version && _shared!.TryLoad(request.Version, _flat!)) _version = request.Version;
        if (_computer is null || request.Version != _version)
        {
            Sender.Tell(new ShardRefused(request.Step, request.Shard, $"{_settings.Name} holds parameter version {_version}, the step needs {request.Version}"));
            return;
        }
        if (_sharedAdmitted && _shared!.TryClaimFor(request.Step))
        {
            double lossSum = _computer.ComputeInto(request.SampleIndices, request.Epoch, _shared.Gradients);
            _shared.PublishGradients(request.Step);
            Sender.Tell(new ShardGradientsShared(request.Step, request.Version, request.Shard, request.SampleIndices.Length, lossSum));
            return;
        }
        var result = _computer.Compute(request.SampleIndices, request.Epoch);
        SendGradients(Sender, new ShardGradients(request.Step, request.Version, request.Shard, result.SampleCount, result.LossSum, result.GradientSum));
    }

    /// <summary>Over the bulk channel when both ends have one, else through Akka (whole when local, chunked when remote).</summary>
    private void SendGradients(IActorRef coordinator, ShardGradients gradients)
    {
        if (_bulk is not null && _offer?.BulkEndpoint is { } endpoint)
        {
            try { _bulk.Send(endpoint, BulkMessage.Of(gradients, _offer.BulkToken, _settings.Name)); return; }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                _log.Warning("Worker {0}: bulk channel to {1} failed ({2}); sending through Akka instead", _settings.Name, endpoint, e.Message);
            }
        }
        Chunking.Send(coordinator, gradients, Self);
    }
}
