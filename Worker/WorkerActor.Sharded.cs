// The worker's part of the sharded step: its ranges to their owners, the range it owns reduced, the replica stepped.
using Akka.Actor;
using Akka.Event;
using DistClip.Core;
using DistClip.Exchange;
using DistClip.Exchange.Bulk;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Training.Clipping;
using DistClip.Training.Reduction;
using DistClip.Training.State;
using TorchSharp;
using static TorchSharp.torch;

namespace DistClip.Worker;

/// <summary>
/// The sharded exchange on a worker (docs/ARCHITECTURE.md, "The sharded step"). Per attempt of a step
/// (<see cref="StepRanges"/>, kept as a <see cref="ShardedStep"/>): each shard it computes goes range by range to the
/// ranges' owners (<see cref="PeerLinks"/>) and is reported to the coordinator (<see cref="ShardComputed"/>); as an owner
/// it adds the shards' slices of its range in shard order and sends the reduced range to every other worker and the
/// coordinator; once it has gathered every range and the coordinator's <see cref="ClipDecided"/>, it clips and steps its
/// own replica with the coordinator's arithmetic. Frames of a plan that has not arrived yet (the bulk channel may
/// overtake Akka.Remote) wait, a bounded number of them. The whole state comes as <see cref="ReplicaStateChunk"/>s when
/// the coordinator finds this replica not at the step.
/// </summary>
public sealed partial class WorkerActor
{
    /// <summary>Frames of plans not yet known kept at most (the rest are dropped; the step's deadline plans it again).</summary>
    private const int MaxWaitingFrames = 1024;

    private JobSpec? _job;
    private Device? _device;
    private Augmenter? _augmenter;
    private IImageDataset? _data;
    private PeerLinks? _peers;
    private long _stepsDone = -1;                                  // steps this replica has taken or skipped; -1 before its state came
    private readonly SortedDictionary<long, ShardedStep> _steps = [];   // by plan: the attempts in flight, oldest first
    private readonly List<BulkArrival> _waitingFrames = [];
    private byte[]? _state;
    private int _stateReceived;

    /// <summary>The model this worker computes with, its flat view, its shard computer and (sharded) the replica that steps it.</summary>
    private (nn.Module<Tensor, Tensor> Model, FlatParameters Flat, ShardGradientComputer Computer, ModelReplica? Stepper) BuildReplica()
    {
        var model = ModelZoo.Create(_job!.Model, seed: 0).to(_device!);  // values arrive from the coordinator
        model.train();
        var stepper = _job.Sharded is { } spec ? ReplicaFactory.Create(model, spec) : null;
        var flat = stepper?.Flat ?? new FlatParameters(model);
        return (model, flat, new ShardGradientComputer(model, flat, _data!, _device!, _job.MicroBatch, _augmenter), stepper);
    }

    private void OnStepRanges(StepRanges plan)
    {
        if (_steps.ContainsKey(plan.Plan) || plan.Step < _stepsDone) return;   // told again, or of a step this replica has passed
        foreach (var superseded in _steps.Where(kv => kv.Value.Plan.Step == plan.Step).Select(kv => kv.Key).ToList()) _steps.Remove(superseded);
        _steps[plan.Plan] = new ShardedStep(plan, (int)_replica!.Flat.ExchangeLength);
        var frames = _waitingFrames.Where(f => f.Message.Plan == plan.Plan).ToList();
        _waitingFrames.RemoveAll(f => f.Message.Plan <= plan.Plan);
        foreach (var frame in frames) OnPeerRange(frame);
    }

    private void OnPeerRange(BulkArrival arrival)
    {
        var m = arrival.Message;
        if (_replica?.Stepper is null) return;
        if (!_steps.TryGetValue(m.Plan, out var step))
        {
            if (_steps.Count > 0 && m.Plan <= _steps.Keys.Max()) return;   // of an attempt dropped or done
            if (_waitingFrames.Count >= MaxWaitingFrames) _waitingFrames.RemoveAt(0);
            _waitingFrames.Add(arrival);
            return;
        }
        int from = PeerLinks.OwnerOf(step.Plan, m.Token);
        if (from < 0) { _log.Warning("Worker {0} dropped a range of plan {1} under no token of its plan", _settings.Name, m.Plan); return; }
        string? rejection;
        if (m.Kind == BulkKind.ShardRange)
        {
            if (step.AddShardRange(m.Shard, m.SampleCount, m.LossSum, m.Offset, m.Values, out rejection) is { } reduced) SendReduced(step, reduced);
        }
        else if (from != step.Plan.You) step.AddReducedRange(from, m.Offset, m.Values, out rejection);
        else rejection = "its own range from a peer";
        if (rejection is not null) _log.Warning("Worker {0} dropped a range from owner {1}: {2}", _settings.Name, from, rejection);
        TryStep();
    }

    /// <summary>Computes a shard of a sharded step, reports it, and sends each range to its owner (its own range it adds itself).</summary>
    private void ServeSharded(ComputeGradients request, IActorRef coordinator)
    {
        var replica = _replica!;
        var step = _steps.Values.LastOrDefault(s => s.Plan.Step == request.Step);
        if (step is null)
        {
            coordinator.Tell(new ShardRefused(request.Step, request.Shard, $"{_settings.Name} has no plan of step {request.Step}"));
            return;
        }
        var sum = GC.AllocateUninitializedArray<float>((int)replica.Flat.ExchangeLength);   // written in full; the own range is read after this returns
        double loss = replica.Computer.ComputeInto(request.SampleIndices, request.Epoch, sum);
        if (_settings.SendsNaN) Array.Fill(sum, float.NaN);
        int samples = request.SampleIndices.Length;
        coordinator.Tell(new ShardComputed(request.Step, step.Plan.Plan, request.Shard, samples, loss, ShardCheck.AllFinite(sum) && double.IsFinite(loss)));
        for (int k = 0; k < step.Plan.Owners.Length; k++)
        {
            if (k == step.Plan.You) continue;
            var range = step.Ranges.Ranges[k];
            _peers!.Send(step.Plan.Owners[k], new BulkMessage(BulkKind.ShardRange, 0, request.Step, request.Version, request.Shard, samples, loss,
                range.Of(sum).ToArray()) { Offset = range.Start, Plan = step.Plan.Plan });
        }
        var own = step.OwnRange;
        if (step.AddShardRange(request.Shard, samples, loss, own.Start, sum.AsMemory(own.Start, own.Length), out var rejection) is { } reduced) SendReduced(step, reduced);
        else if (rejection is not null) _log.Warning("Worker {0} could not add its own shard {1}: {2}", _settings.Name, request.Shard, rejection);
        _settings.Served?.Invoke(request.Step);
        TryStep();
    }

    /// <summary>This worker's range is reduced: to every other owner, and to the coordinator.</summary>
    private void SendReduced(ShardedStep step, ReadOnlyMemory<float> reduced)
    {
        var frame = new BulkMessage(BulkKind.ReducedRange, 0, step.Plan.Step, step.Plan.Version, 0, 0, 0, reduced.ToArray())
            { Offset = step.OwnRange.Start, Plan = step.Plan.Plan };
        for (int k = 0; k < step.Plan.Owners.Length; k++)
            if (k != step.Plan.You) _peers!.Send(step.Plan.Owners[k], frame);
        _peers!.SendToCoordinator(_jobCoordinator!, frame);
    }

    private void OnClipDecided(ClipDecided decided)
    {
        if (!_steps.TryGetValue(decided.Plan, out var step)) return;   // a step planned again or this replica was reloaded past it
        step.Decision = decided;
        TryStep();
    }

    /// <summary>Steps the replica through every attempt, oldest first, that has all its ranges and its decision.</summary>
    private void TryStep()
    {
        var stepper = _replica!.Stepper!;
        bool stepped = false;
        while (_steps.Count > 0 && _steps.First() is var (plan, step) && step.IsGathered && step.Decision is { } d)
        {
            _steps.Remove(plan);
            if (stepper.Version != step.Plan.Version || _stepsDone != step.Plan.Step)
            {
                _log.Warning("Worker {0} is at version {1} after {2} steps; step {3} needs version {4}: it waits for the whole state", _settings.Name, stepper.Version, _stepsDone, step.Plan.Step, step.Plan.Version);
                continue;
            }
            using (NewDisposeScope())
            {
                stepper.LoadGradient(step.Reduced);
                stepper.Step(new ClipDecision(d.PreClipNorm, d.Coefficient, d.Threshold), step.Reduced);
            }
            (_version, _stepsDone, stepped) = (stepper.Version, step.Plan.Step + 1, true);
            if (_settings.DriftsReplica) Drift(stepper);
            if (step.Plan.CheckReplica) _jobCoordinator!.Tell(new ReplicaHashReport(_stepsDone, ReplicaHash.Of(stepper).Hex));
        }
        if (stepped) ServeWaiting();
    }

    /// <summary>The fault of <see cref="WorkerSettings.DriftsReplica"/>: the first weight moves by 10⁻³.</summary>
    private static void Drift(ModelReplica replica)
    {
        var values = replica.Flat.ReadValues();
        values[0] += 1e-3f;
        replica.Flat.WriteValues(values);
    }

    /// <summary>A piece of the whole state on the bulk channel (<see cref="StatePieces"/>): taken only under the coordinator's token.</summary>
    private void OnStatePiece(BulkArrival arrival)
    {
        var m = arrival.Message;
        var link = _replica!.Link;
        string? rejection = link.IsFromCoordinator(m) ? null : "not under its coordinator's token";
        var piece = rejection is null ? StatePieces.Read(m, (int)_replica.Flat.ExchangeLength, out rejection) : null;
        link.Bulk?.Buffers.Return(m.Values);
        if (piece is not var (offset, total, data)) { _log.Warning("Worker {0} dropped a piece of the state: {1}", _settings.Name, rejection); return; }
        OnStateChunk(new ReplicaStateChunk(m.Version, m.Step, total, offset, data));
    }

    private void OnStateChunk(ReplicaStateChunk chunk)
    {
        if (_replica?.Stepper is null) return;
        if (chunk.Offset == 0) (_state, _stateReceived) = (new byte[chunk.TotalBytes], 0);
        if (_state is null || _state.Length != chunk.TotalBytes || chunk.Offset != _stateReceived || chunk.Data.Length > _state.Length - chunk.Offset)
        {
            _log.Warning("Worker {0} dropped a piece of the state out of order", _settings.Name);
            (_state, _stateReceived) = (null, 0);
            return;
        }
        chunk.Data.CopyTo(_state, chunk.Offset);
        _stateReceived += chunk.Data.Length;
        if (_stateReceived < _state.Length) return;
        LoadState(_state, chunk.Steps, chunk.Version);
        (_state, _stateReceived) = (null, 0);
    }

    /// <summary>A fresh replica at the coordinator's state (fresh: loading replays the schedule from the start).</summary>
    private void LoadState(byte[] bundle, long steps, long version)
    {
        var old = _replica!;
        var (model, flat, computer, stepper) = BuildReplica();
        StateBundle.Load(bundle, stepper!, steps, version);
        old.Stepper!.Dispose();
        _replica = old with { Model = model, Flat = flat, Computer = computer, Stepper = stepper };
        (_version, _stepsDone) = (version, steps);
        foreach (var passed in _steps.Where(kv => kv.Value.Plan.Step < steps).Select(kv => kv.Key).ToList()) _steps.Remove(passed);
        _log.Debug("Worker {0} loaded the whole state at step {1} (version {2})", _settings.Name, steps, version);
        ServeWaiting();
        TryStep();
    }

    private void ForgetSharded()
    {
        _steps.Clear();
        _waitingFrames.Clear();
        (_state, _stateReceived, _stepsDone, _peers, _job, _data) = (null, 0, -1, null, null, null);
    }
}
