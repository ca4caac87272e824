// The coordinator's routing of the sharded step: plans, shard reports, reduced ranges, the decision.
using Akka.Actor;
using Akka.Event;
using DistClip.Coordinator.Steps;
using DistClip.Exchange;
using DistClip.Protocol;
using DistClip.Training.Clipping;

namespace DistClip.Coordinator;

/// <summary>
/// The sharded exchange (docs/ARCHITECTURE.md, "The sharded step"): the workers carry the gradient's bytes to each other;
/// this actor plans every attempt of a step (<see cref="ShardedStepInFlight{TWorker}"/>), receives each owner's reduced
/// range — 4P bytes a step whatever the number of workers — and decides the clip on its own replica with the central
/// code (<see cref="MasterWeights.Decide"/>), then tells every worker the decision and steps its replica as they step theirs.
/// That replica is the run's: checkpoints, the result, and the whole state a worker gets when it takes part in a step
/// for the first time or was found behind (<see cref="ReplicaStateChunk"/>). A worker lost before the step is complete
/// makes it planned again among the others: the same shards, so the same bits.
/// </summary>
public sealed partial class CoordinatorActor
{
    private readonly Dictionary<IActorRef, long> _replicaAtStep = [];   // the step each worker's replica is at, as far as this actor knows
    private (long Step, byte[] Bundle)? _stateBundle;                   // the master's state at a step, packed once for every worker behind
    private readonly ReplicaChecks _checks = new();
    private readonly Dictionary<int, IActorRef> _movedShards = [];       // this step: shards given to another worker after a non-finite result
    private long _nextPlan = 1;
    private const int StateChunkBytes = Exchange.Chunks.Chunking.ChunkElements * sizeof(float);

    private bool Sharded => _job.Sharded is not null;

    /// <summary>A sharded step in flight: <paramref name="step"/> is its current attempt.</summary>
    private void SteppingSharded(ShardedStepInFlight<IActorRef> step)
    {
        Receive<JoinRequest>(j => OnJoinRequest(j, w => OnShardedWorkerLost(w, step)));
        Receive<JoinProof>(OnJoinProof);
        Receive<RegisterWorker>(r => OnRegister(r, stepping: true));
        Receive<ShardComputed>(r => OnShardComputed(r, step));
        Receive<BulkArrival>(a => OnReducedRange(a, step));
        Receive<IDataPlaneMessage>(_ => { });   // a late transfer of the central exchange: nothing of this run
        Receive<ShardRefused>(r => OnShardRefusedSharded(r, step));
        Receive<ReplicaHashReport>(r => OnReplicaHash(r, step));
        Receive<Terminated>(t => { _unreachable.Remove(t.ActorRef); OnShardedWorkerLost(t.ActorRef, step); });
        Receive<StepTimedOut>(t => OnShardedStepTimedOut(t, step));
        Receive<WorkerNodeReachability>(r => { foreach (var (w, name) in OnReachability(r, null)) AfterShardedLoss(w, name, step); });
        Receive<StopTraining>(stop => Finish(stop.Reason));
    }

    /// <summary>Whether the plan of step <paramref name="step"/> asks every replica for its hash after it (not after the last: the run ends there).</summary>
    private bool ChecksReplicaAfter(long step) => _plan.ReplicaCheckEvery > 0 && (step + 1) % _plan.ReplicaCheckEvery == 0 && step + 1 < _plan.TotalSteps;

    private string? NameOf(IActorRef worker) => _nameOf.FirstOrDefault(kv => kv.Value.Equals(worker)).Key;

    private void OnShardedWorkerLost(IActorRef worker, ShardedStepInFlight<IActorRef> step)
    {
        var name = NameOf(worker);
        OnWorkerLost(worker, null);
        AfterShardedLoss(worker, name, step);
    }

    /// <summary>A worker is gone: its step is planned again, and the replica checks that waited only for it are judged.</summary>
    private void AfterShardedLoss(IActorRef worker, string? name, ShardedStepInFlight<IActorRef> step)
    {
        RePlanWithout(worker, step);
        if (name is not null) foreach (var verdict in _checks.Forget(name)) Judge(verdict.Steps, verdict.Verdict, step);
    }

    private void OnReplicaHash(ReplicaHashReport report, ShardedStepInFlight<IActorRef> step)
    {
        if (NameOf(Sender) is not { } name) return;
        if (_checks.Report(report.Steps, name, new Training.State.ReplicaHash(report.Hash)) is var (steps, verdict)) Judge(steps, verdict, step);
    }

    /// <summary>
    /// A comparison of replicas: a worker outside a majority the coordinator is in is removed (named, its step planned
    /// again); without such a majority nobody can tell which state is right, and the run stops at its last checkpoint.
    /// </summary>
    private void Judge(long steps, Training.State.ReplicaAgreement verdict, ShardedStepInFlight<IActorRef> step)
    {
        string groups = string.Join("; ", verdict.Groups.Select(g => string.Join(", ", g)));
        if (verdict.Agreed) { _log.Debug("Every replica holds the run's state after {0} steps", steps); return; }
        if (verdict.Majority is { } run && !verdict.Divergent.Contains(ReplicaChecks.Coordinator))
        {
            foreach (var name in verdict.Divergent)
            {
                if (!_nameOf.TryGetValue(name, out var worker)) continue;
                var reason = $"its replica diverged from the run's after {steps} steps (the run's state, hash {run}, is held by: {string.Join(", ", verdict.Groups[0])})";
                _log.Error("Removed worker {0}: {1}", name, reason);
                worker.Tell(new WorkerRefused(reason, Removed: true));
                OnShardedWorkerLost(worker, step);
            }
            return;
        }
        var why = $"the replicas disagree after {steps} steps and no majority holds the coordinator's state (groups: {groups})";
        _log.Error("Training stopped: {0}", why);
        Finish(why, checkpoint: false);
    }

    /// <summary>Plans step <see cref="_step"/> (again, after a loss) over the active workers and asks them for its shards.</summary>
    /// <param name="deadline">How long the attempt may take (longer after one timed out); null: the current deadline.</param>
    /// <param name="version">The parameter version the step starts from; null: the master's (one step behind it when the step is planned ahead).</param>
    private void StartShardedStep(TimeSpan? deadline = null, long? version = null)
    {
        var workers = _roster.Active.ToList();
        var shards = ShardPlan.Split(_batches.GlobalBatch(_step), _plan.ShardCount);
        if (workers.Count == 0)
        {
            _log.Warning("Step {0}: no workers left; waiting for one to join", _step);
            Become(WaitingForWorkers);   // the step starts again once one is admitted
            return;
        }
        var step = new ShardedStepInFlight<IActorRef>(_step, _nextPlan++, version ?? _master.Version, shards, workers, _reductionBuffer, (int)(_step / _batches.StepsPerEpoch));
        Become(() => SteppingSharded(step));
        var samples = shards.Select(s => s.Length).ToArray();
        foreach (var worker in workers)
        {
            if (!_replicaAtStep.TryGetValue(worker, out var at) || at != _step) SendState(worker);
            worker.Tell(_links.PlanFor(worker, step.Step, step.Plan, step.Version, samples, workers, ChecksReplicaAfter(step.Step)));
        }
        for (int r = 0; r < shards.Length; r++)
        {
            var worker = _movedShards.TryGetValue(r, out var moved) && workers.Contains(moved) ? moved : workers[r % workers.Count];
            step.Assign(r, worker);
            worker.Tell(step.Request(r));
        }
        var after = deadline ?? _deadline.Current;
        Timers.StartSingleTimer(nameof(StepTimedOut), new StepTimedOut(_step, after), after);
    }

    /// <summary>The master's whole state, to a worker whose replica is not at the current step.</summary>
    private void SendState(IActorRef worker)
    {
        if (_stateBundle is not { } cached || cached.Step != _step) _stateBundle = cached = (_step, _master.StateBundle());
        var bundle = cached.Bundle;
        if (worker.Path.Address.HasLocalScope) worker.Tell(new ReplicaStateChunk(_master.Version, _step, bundle.Length, 0, bundle));
        else if (!_links.SendState(worker, bundle, _step, _master.Version, (int)_master.ExchangeLength))   // the bulk channel first: Akka.Remote's heartbeats would wait behind the state
            for (int offset = 0; offset < Math.Max(1, bundle.Length); offset += StateChunkBytes)
                worker.Tell(new ReplicaStateChunk(_master.Version, _step, bundle.Length, offset, bundle.AsSpan(offset, Math.Min(StateChunkBytes, bundle.Length - offset)).ToArray()));
        _replicaAtStep[worker] = _step;
    }

    private void OnShardComputed(ShardComputed report, ShardedStepInFlight<IActorRef> step)
    {
        if (step.Report(Sender, report) is { } rejection) { _log.Debug("Dropped a shard report from {0}: {1}", Sender.Path, rejection); return; }
        if (!report.Finite)
        {
            if (_faulty.Suspect(report.Shard, Sender) && ComputeAgainElsewhere(report, Sender, step)) return;
            _faulty.Forgive(report.Shard);
        }
        else if (_faulty.Confirmed(report.Shard) is ({ } blamed, var count) && BlameSharded(blamed, report, count, step)) return;
        if (step.IsComplete) CompleteShardedStep(step);
    }

    /// <summary>
    /// A shard whose result was not finite: the step is planned again with that shard on another worker (its owners have
    /// added the bad ranges already). False when no other worker is there to ask.
    /// </summary>
    private bool ComputeAgainElsewhere(ShardComputed report, IActorRef sender, ShardedStepInFlight<IActorRef> step)
    {
        if (SecondOpinionFor(report.Shard, sender) is not { } other) return false;
        _log.Warning("Step {0}: shard {1} from {2} is not finite; computing it again on {3}", report.Step, report.Shard, sender.Path, other.Path);
        _movedShards[report.Shard] = other;
        Timers.Cancel(nameof(StepTimedOut));
        StartShardedStep();
        return true;
    }

    /// <summary>The worker whose non-finite result another's finite one replaced: named, counted; removed at the limit (true: the step was planned again).</summary>
    private bool BlameSharded(IActorRef worker, ShardComputed report, int count, ShardedStepInFlight<IActorRef> step)
    {
        _log.Error("Worker {0} sent a non-finite result for shard {1} of step {2} that another worker computed finite ({3} of at most {4})",
            worker.Path, report.Shard, report.Step, count, _plan.MaxBadShards);
        if (!_faulty.Exhausted(count)) return false;
        var reason = $"{count} shard results that were not finite where other workers' were (--max-bad-shards {_plan.MaxBadShards})";
        _log.Error("Removed worker {0}: {1}", worker.Path, reason);
        worker.Tell(new WorkerRefused(reason, Removed: true));
        bool replanned = step.IsOwner(worker) && !step.IsComplete;
        OnShardedWorkerLost(worker, step);
        return replanned;
    }

    private void OnReducedRange(BulkArrival arrival, ShardedStepInFlight<IActorRef> step)
    {
        if (_links.ReceiveRange(arrival, Sender, out var rejection) is not var (owner, range)) { _log.Warning("Dropped a bulk frame: {0}", rejection); return; }
        if (step.Gather(owner, range.Step, range.Plan, range.Offset, range.Values) is { } why) { _log.Debug("Dropped a reduced range from {0}: {1}", owner.Path, why); return; }
        if (step.IsComplete) CompleteShardedStep(step);
    }

    private void CompleteShardedStep(ShardedStepInFlight<IActorRef> step)
    {
        ClipDecision decision;
        try { decision = _master.Decide(step.Step, step.Reduced); }
        catch (NonFiniteGradientException e)
        {
            StopOnNonFinite(e);
            return;
        }
        var decided = new ClipDecided(step.Step, step.Plan, decision.PreClipNorm, decision.Coefficient, decision.Threshold);
        foreach (var owner in step.Owners)
        {
            owner.Tell(decided);
            _replicaAtStep[owner] = step.Step + 1;
        }
        var timing = TimingOfThisStep();
        _step++;
        bool plannedAhead = PlanNextAhead(step, decision);
        if (StepOwnReplica(step, decision, timing) && !plannedAhead) StartStep();
    }

    /// <summary>This actor's replica takes the step the workers were told (<paramref name="decision"/>), and the step is recorded; false when the run ended there.</summary>
    private bool StepOwnReplica(ShardedStepInFlight<IActorRef> step, ClipDecision decision, StepTiming timing)
    {
        var outcome = _master.Step(decision, step.Reduced);
        if (ChecksReplicaAfter(step.Step)) _checks.Expect(step.Step + 1, _master.Hash(), step.Owners.Select(NameOf).OfType<string>());
        return Record(step.Step, step.SampleCount, step.LossSum, step.Shards.Length, outcome, timing);
    }

    /// <summary>
    /// Plans step <see cref="_step"/> before this actor steps its own replica by <paramref name="decision"/> (its version
    /// after the decision is known), so that the workers, which step theirs on the decision, find the next step waiting
    /// while this replica steps: it is off the critical path. Only when
    /// every admitted worker took part in <paramref name="done"/> (a worker whose replica is behind gets this replica's
    /// whole state, which needs it stepped) and a next step is to come. False when the step is left to <see cref="StartStep"/>.
    /// </summary>
    private bool PlanNextAhead(ShardedStepInFlight<IActorRef> done, ClipDecision decision)
    {
        if (_step >= _plan.TotalSteps || !_roster.All.Any() || !_roster.All.All(done.IsOwner)) return false;
        BeginStepBoundary();
        StartShardedStep(version: _master.Version + (decision.NormIsFinite ? 1 : 0));
        return true;
    }

    /// <summary>A worker of the plan was lost before the step was complete: the step is planned again among the others.</summary>
    private void RePlanWithout(IActorRef worker, ShardedStepInFlight<IActorRef> step)
    {
        if (!step.IsOwner(worker) || step.IsComplete) return;
        _log.Warning("Worker {0} left during step {1}; planning the step again over {2} worker(s)", worker.Path, step.Step, _roster.Active.Count);
        Timers.Cancel(nameof(StepTimedOut));
        _roster.BeginStep();
        StartShardedStep();
    }

    private void OnShardedStepTimedOut(StepTimedOut timeout, ShardedStepInFlight<IActorRef> step)
    {
        if (step.Step != timeout.Step) return;
        _log.Warning("Step {0} (plan {1}) is not complete after {2:F1} s; planning it again", step.Step, step.Plan, timeout.After.TotalSeconds);
        foreach (var owner in step.Owners) _replicaAtStep.Remove(owner);   // one of them may be behind: every replica is sent again
        _roster.BeginStep();
        StartShardedStep(_deadline.Backoff(timeout.After));   // a step slower than the deadline must not be planned again for ever
    }

    /// <summary>A worker whose replica was not at the step's version: it gets the whole state, then the shard again.</summary>
    private void OnShardRefusedSharded(ShardRefused refused, ShardedStepInFlight<IActorRef> step)
    {
        if (refused.Step != step.Step || !step.Outstanding(Sender).Contains(refused.Shard)) return;
        _log.Warning("Worker {0} refused shard {1} of step {2}: {3}; sending it the whole state", Sender.Path, refused.Shard, refused.Step, refused.Reason);
        SendState(Sender);
        Sender.Tell(_links.PlanFor(Sender, step.Step, step.Plan, step.Version, step.Shards.Select(s => s.Length).ToArray(), step.Owners, ChecksReplicaAfter(step.Step)));
        foreach (var shard in step.Outstanding(Sender)) Sender.Tell(step.Request(shard));
    }
}
