// The worker actor: registers with the coordinator, keeps its replica at the master's version, computes shards.
using Akka.Actor;
using Akka.Event;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using TorchSharp;
using static TorchSharp.torch;

namespace DistClip.Worker;

/// <summary>
/// One model replica on one device. It registers with the coordinator, loads every
/// <see cref="ParameterUpdate"/> it receives and answers each <see cref="ComputeGradients"/> with the
/// shard's gradient sum, or with <see cref="ShardRefused"/> when its parameters are not at the step's
/// version. Run it on a pinned dispatcher: the tensor work blocks its thread.
/// </summary>
public sealed class WorkerActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinator;
    private readonly WorkerSettings _settings;
    private readonly IImageDataset _data;
    private nn.Module<Tensor, Tensor>? _model;
    private FlatParameters? _flat;
    private ShardGradientComputer? _computer;
    private long _version = -1;

    public WorkerActor(IActorRef coordinator, WorkerSettings settings, IImageDataset data)
    {
        (_coordinator, _settings, _data) = (coordinator, settings, data);
        Receive<WorkerAdmitted>(m => Load(m.Parameters));
        Receive<WorkerRefused>(OnRefused);
        Receive<ParameterUpdate>(Load);
        Receive<ComputeGradients>(OnComputeGradients);
    }

    public static Props Props(IActorRef coordinator, WorkerSettings settings, IImageDataset data) =>
        Akka.Actor.Props.Create(() => new WorkerActor(coordinator, settings, data));

    protected override void PreStart()
    {
        // Intra-op threads are per OS thread (OpenMP); the pinned dispatcher gives this actor its own.
        set_num_threads(_settings.Threads);
        var device = new Device(_settings.Device);
        _model = ModelZoo.Create(_settings.Model, seed: 0).to(device);  // values arrive from the coordinator
        _model.train();
        _flat = new FlatParameters(_model);
        _computer = new ShardGradientComputer(_model, _flat, _data, device, _settings.MicroBatch);
        _coordinator.Tell(new RegisterWorker(_settings.Name, _flat.Signature, _settings.Device));
    }

    protected override void PostStop() => _model?.Dispose();

    private void Load(ParameterUpdate update)
    {
        if (update.Version <= _version) return;  // late or duplicate broadcast
        _flat!.WriteValues(update.Values);
        _version = update.Version;
    }

    private void OnRefused(WorkerRefused refused)
    {
        _log.Error("Worker {0} was refused by the coordinator: {1}", _settings.Name, refused.Reason);
        Context.Stop(Self);
    }

    private void OnComputeGradients(ComputeGradients request)
    {
        if (request.Version != _version)
        {
            Sender.Tell(new ShardRefused(request.Step, request.Shard, $"{_settings.Name} holds parameter version {_version}, the step needs {request.Version}"));
            return;
        }
        var result = _computer!.Compute(request.SampleIndices);
        Sender.Tell(new ShardGradients(request.Step, request.Version, request.Shard, result.SampleCount, result.LossSum, result.GradientSum));
    }
}
