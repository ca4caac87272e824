// The coordinator actor: admits workers, hands out shards, reduces, clips, steps and broadcasts.
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DistClip.Coordinator.Steps;
using DistClip.Training.Reduction;
using DistClip.Protocol;
using DistClip.Exchange;

namespace DistClip.Coordinator;

/// <summary>
/// Routes the step protocol of docs/ARCHITECTURE.md through three states: <see cref="WaitingForWorkers"/>
/// (until <see cref="CoordinatorPlan.MinWorkers"/> are admitted), <see cref="Stepping"/> (one state per step, which holds
/// that step's <see cref="StepInFlight{TWorker}"/>) and <see cref="Finished"/>. The logic lives elsewhere: <see cref="WorkerRoster{TWorker}"/>
/// admits workers and hands out orphaned shards, <see cref="ShardPlan"/> splits a batch,
/// <see cref="StepInFlight{TWorker}"/> checks and reduces results in shard order, <see cref="MasterWeights"/>
/// clips by the true global norm and steps the optimizer, and <see cref="WorkerLinks"/> moves parameters
/// and gradients — however each worker is reached — handing this actor whole shard sums.
/// </summary>
public sealed partial class CoordinatorActor : ReceiveActor, IWithTimers
{
    private sealed record StepTimedOut(long Step, TimeSpan After);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MasterWeights _master;
    private readonly BatchOrder _batches;
    private readonly CoordinatorPlan _plan;
    private readonly ITrainingObserver _observer;
    private readonly TaskCompletionSource<TrainingSummary> _done;
    private readonly JobSpec _job;
    private readonly ExchangeSettings? _exchange;
    private readonly ICheckpointWriter? _checkpoints;
    private readonly JoinGate<IActorRef> _gate;
    private readonly FaultyShards<IActorRef> _faulty;
    private readonly ResultDeadline _deadline;
    private readonly Dictionary<string, IActorRef> _nameOf = [];   // registered names: one worker each
    private readonly WorkerRoster<IActorRef> _roster = new();
    private readonly Stopwatch _clock = new();
    private readonly Stopwatch _stepClock = new();
    private readonly float[] _reductionBuffer;       // reused every step: the mean gradient is formed here
    private readonly List<IActorRef> _unreachable = [];  // workers given up on while their node was unreachable
    private WorkerLinks _links = null!;              // opened in PreStart
    private long _step, _skipped, _clipped, _samples;
    private Core.ComputeFingerprint? _firstWorkerCompute;   // its devices are the cluster's (ClusterFingerprint)

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="exchange">Where to open the bulk channel and shared segments for remote workers; null inside one process.</param>
    public CoordinatorActor(JobSpec job, MasterWeights master, BatchOrder batches, CoordinatorPlan plan, ITrainingObserver observer,
        TaskCompletionSource<TrainingSummary> done, ExchangeSettings? exchange = null, ICheckpointWriter? checkpoints = null, JoinSecret? secret = null)
    {
        (_job, _master, _batches, _plan, _observer, _done, _exchange, _checkpoints) = (job, master, batches, plan.Validate(), observer, done, exchange, checkpoints);
        _gate = new JoinGate<IActorRef>(secret);
        _faulty = new FaultyShards<IActorRef>(plan.MaxBadShards);
        _deadline = new ResultDeadline(plan.StepTimeoutSeconds);
        _reductionBuffer = new float[master.ExchangeLength];
        if (plan.Resumed is { } at) (_step, _skipped, _clipped, _samples) = (at.Steps, at.Skipped, at.Clipped, at.Samples);
        WaitingForWorkers();
    }

    /// <summary>
    /// Before the first step: admit workers until <see cref="CoordinatorPlan.MinWorkers"/> are in. In a sharded run that lost
    /// every worker, until one is admitted (the step then starts again).
    /// </summary>
    private void WaitingForWorkers()
    {
        Receive<JoinRequest>(j => OnJoinRequest(j, w => OnWorkerLost(w, null)));
        Receive<JoinProof>(OnJoinProof);
        Receive<RegisterWorker>(r => OnRegister(r, stepping: false));
        Receive<Terminated>(t => { _unreachable.Remove(t.ActorRef); OnWorkerLost(t.ActorRef, null); });
        Receive<WorkerNodeReachability>(r => OnReachability(r, null));
        Receive<StopTraining>(stop => Finish(stop.Reason));
    }

    /// <summary>Training, one state per step: <paramref name="step"/> is in flight (from the first step to the last there always is one).</summary>
    private void Stepping(StepInFlight<IActorRef> step)
    {
        Receive<JoinRequest>(j => OnJoinRequest(j, w => OnWorkerLost(w, step)));
        Receive<JoinProof>(OnJoinProof);
        Receive<RegisterWorker>(r => OnRegister(r, stepping: true, step));
        Receive<IDataPlaneMessage>(t => OnGradientTransfer(t, step));
        Receive<ShardRefused>(r => OnShardRefused(r, step));
        Receive<Terminated>(t => { _unreachable.Remove(t.ActorRef); OnWorkerLost(t.ActorRef, step); });
        Receive<StepTimedOut>(t => OnStepTimedOut(t, step));
        Receive<WorkerNodeReachability>(r => OnReachability(r, step));
        Receive<StopTraining>(stop => Finish(stop.Reason));
    }

    /// <summary>After the last step: late results and join requests are for nobody.</summary>
    private void Finished()
    {
        ReceiveAny(m => _log.Debug("Training is over; ignored {0} from {1}", m.GetType().Name, Sender.Path));
    }

    public static Props Props(JobSpec job, MasterWeights master, BatchOrder batches, CoordinatorPlan plan, ITrainingObserver observer,
        TaskCompletionSource<TrainingSummary> done, ExchangeSettings? exchange = null, ICheckpointWriter? checkpoints = null, JoinSecret? secret = null) =>
        Akka.Actor.Props.Create(() => new CoordinatorActor(job, master, batches, plan, observer, done, exchange, checkpoints, secret));

    /// <summary>Run on <see cref="AkkaDefaults.CoordinatorDispatcher"/>, this sets its own thread's intra-op threads.</summary>
    protected override void PreStart()
    {
        TorchSharp.torch.set_num_threads(_plan.IntraOpThreads);
        var log = _log;
        _links = new WorkerLinks(_exchange, (int)_master.ExchangeLength, Self, m => log.Info(m), m => log.Warning(m));
    }

    /// <summary>An exception in a handler ends the run (a restarted coordinator would have lost the step): say which.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _log.Error(reason, "The coordinator failed at step {0} handling {1}", _step, message?.GetType().Name ?? "nothing");
        _done.TrySetException(new TrainingStoppedException(Summary(null),
            new InvalidOperationException($"The coordinator failed at step {_step} handling {message?.GetType().Name}: {reason.Message}", reason)));
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        _links?.Dispose();
        _done.TrySetException(new TrainingStoppedException(Summary(null), new InvalidOperationException($"The coordinator stopped at step {_step} of {_plan.TotalSteps}.")));
    }

    /// <param name="lost">How this state lets a worker go: a worker asks to join only without a replica, so an admitted one that asks again has left the job.</param>
    private void OnJoinRequest(JoinRequest join, Action<IActorRef> lost)
    {
        _unreachable.Remove(Sender);   // back, and joining: what it was told while given up on has reached it
        if (_roster.Contains(Sender))
        {
            _log.Warning("Worker {0} asked to join again: it dropped its replica, and leaves the job until it is admitted anew", Sender.Path);
            lost(Sender);
        }
        if (join.Protocol != ProtocolVersion.Current)
        {
            var reason = $"protocol mismatch: worker {join.WorkerName} speaks DistClip protocol v{join.Protocol}, the coordinator v{ProtocolVersion.Current}";
            _log.Error("Refused worker {0}: {1}", join.WorkerName, reason);
            Sender.Tell(new WorkerRefused(reason));
            return;
        }
        if (_gate.Challenge(Sender, join.Nonce) is { } challenge) Sender.Tell(challenge);
        else Sender.Tell(_links.Offer(Sender, _job));
    }

    /// <summary>The answer to a join challenge: the job offer if it proves the secret; otherwise a refusal, and nothing about the run.</summary>
    private void OnJoinProof(JoinProof proof)
    {
        if (!_gate.Challenged(Sender) && _gate.Challenge(Sender) is { } again)
        {
            Sender.Tell(again);   // its challenge was pushed out by others': a new one, not a refusal
            return;
        }
        if (_gate.Check(Sender, Sender.Path.ToString(), proof) is { } why)
        {
            _log.Error("Refused worker {0} at {1}: {2}", proof.WorkerName, Sender.Path.Address, why);
            Sender.Tell(new WorkerRefused(why));
            return;
        }
        var self = Self.Path.ToStringWithAddress(((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
        Sender.Tell(_links.Offer(Sender, _job) with { CoordinatorProof = _gate.CoordinatorProof(Sender, self) });
    }

    /// <param name="stepping">A step is in flight: the worker joins at the next boundary.</param>
    /// <param name="central">The central exchange's step in flight, whose orphaned shards the worker may take at once.</param>
    private void OnRegister(RegisterWorker register, bool stepping, StepInFlight<IActorRef>? central = null)
    {
        if (!_gate.Admits(Sender, register.WorkerName))
        {
            _log.Error("Refused a registration of {0} from {1}: it has not proved the cluster's join secret", register.WorkerName, Sender.Path.Address);
            Sender.Tell(new WorkerRefused("register only after proving the cluster's join secret, under the name proved"));
            return;
        }
        if (_nameOf.TryGetValue(register.WorkerName, out var holder) && !holder.Equals(Sender))
        {
            var reason = $"a worker named {register.WorkerName} is registered already ({holder.Path})";
            _log.Error("Refused a registration from {0}: {1}", Sender.Path, reason);
            Sender.Tell(new WorkerRefused(reason, Transient: true));
            return;
        }
        if (register.Signature.Hash != _master.Signature.Hash)
        {
            var reason = $"model mismatch: worker {register.WorkerName} has parameters {register.Signature.Description} " +
                         $"(hash {register.Signature.Hash}), the coordinator's model has hash {_master.Signature.Hash}";
            _log.Error("Refused worker {0}: {1}", register.WorkerName, reason);
            Sender.Tell(new WorkerRefused(reason));
            return;
        }
        if (_plan.Fingerprint?.Refusal(register, _firstWorkerCompute) is { } refusal)
        {
            _log.Error("Refused {0}", refusal);
            Sender.Tell(new WorkerRefused(refusal));
            return;
        }
        if (Sharded && WorkerLinks.ShardedRefusal(Sender, register) is { } noPeers)
        {
            _log.Error("Refused worker {0}: {1}", register.WorkerName, noPeers);
            Sender.Tell(new WorkerRefused(noPeers));
            return;
        }
        if (_roster.Contains(Sender)) return;
        if (_plan.Fingerprint?.MixedCompute(register, _firstWorkerCompute) is { } mixed)
            _log.Warning("Admitting worker {0} with --allow-mixed-compute although it computes otherwise ({1}): the run is no longer bit-reproducible", register.WorkerName, mixed);
        _firstWorkerCompute ??= register.Compute;
        _nameOf[register.WorkerName] = Sender;
        Context.Watch(Sender);
        var link = _links.Admit(Sender, register);
        Sender.Tell(new WorkerAdmitted(_master.Version, link == LinkKind.SharedMemory));
        if (!Sharded) _links.SendParameters(Sender, _master.Version, _master.CopyValuesTo);   // sharded: the whole state, at its first step
        _log.Info("Admitted worker {0} on {1} ({2} parameters)", register.WorkerName, register.Device, register.Signature.ElementCount);
        _observer.OnWorkerAdmitted(register.WorkerName, register.Device, link);
        _roster.Admit(Sender, stepInFlight: stepping);

        if (central is not null) AssignOrphans(central);
        else if (!stepping && _clock.IsRunning) StartStep();   // a sharded run that had lost every worker
        else if (!stepping && _roster.Active.Count >= _plan.MinWorkers) StartTraining();
    }

    private void StartTraining()
    {
        _log.Info("Training starts with {0} workers: {1} steps, {2} steps per epoch, {3} shards a step", _roster.Active.Count, _plan.TotalSteps, _batches.StepsPerEpoch, _plan.ShardCount);
        _clock.Start();
        StartStep();
    }

    private void StartStep()
    {
        if (_step >= _plan.TotalSteps) { Finish(); return; }
        BeginStepBoundary();
        if (Sharded)
        {
            StartShardedStep();
            return;
        }
        var workers = _roster.Active;
        var shards = ShardPlan.Split(_batches.GlobalBatch(_step), _plan.ShardCount);
        var step = new StepInFlight<IActorRef>(_step, _master.Version, shards, _reductionBuffer, (int)(_step / _batches.StepsPerEpoch));
        Become(() => Stepping(step));
        if (workers.Count == 0) _log.Warning("Step {0}: no workers left; waiting for one to join", _step);
        else for (int r = 0; r < shards.Length; r++) Send(step, r, workers[r % workers.Count]);
        Timers.StartSingleTimer(nameof(StepTimedOut), new StepTimedOut(_step, _deadline.Current), _deadline.Current);
    }

    /// <summary>A step boundary: the workers admitted during the last step become active, the step's counts and clock start.</summary>
    private void BeginStepBoundary()
    {
        _roster.BeginStep();
        _faulty.BeginStep();
        _movedShards.Clear();
        _stepClock.Restart();
    }

    private void OnStepTimedOut(StepTimedOut timeout, StepInFlight<IActorRef> step)
    {
        if (step.Step != timeout.Step) return;
        foreach (var worker in _roster.Active.ToList())
            foreach (var shard in step.Outstanding(worker))
            {
                _log.Warning("Step {0}: no result for shard {1} from {2} after {3:F1} s; asking again", timeout.Step, shard, worker.Path, timeout.After.TotalSeconds);
                worker.Tell(step.Request(shard));
            }
        var next = _deadline.Backoff(timeout.After);
        Timers.StartSingleTimer(nameof(StepTimedOut), timeout with { After = next }, next);
    }

    private static void Send(StepInFlight<IActorRef> step, int shard, IActorRef worker)
    {
        step.Assign(shard, worker);
        worker.Tell(step.Request(shard));
    }

    private void OnGradientTransfer(IDataPlaneMessage transfer, StepInFlight<IActorRef> step)
    {
        if (_links.Receive(transfer, Sender, step.Step, out var rejection) is { } arrived) OnShardGradients(arrived.Sum, arrived.Worker, step);
        else if (rejection is not null) _log.Warning("Dropped a shard result from {0}: {1}", Sender.Path, rejection);
    }

    private void OnShardGradients(ShardSum result, IActorRef sender, StepInFlight<IActorRef> step)
    {
        var rejection = step.Check(sender, result);
        if (rejection is not null) { _log.Warning("Dropped a shard result from {0}: {1}", sender.Path, rejection); return; }
        if (!ShardCheck.AllFinite(result.GradientSum.Span) || !double.IsFinite(result.LossSum))
        {
            if (_faulty.Suspect(result.Shard, sender) && RecomputeElsewhere(result, sender, step)) return;
            _faulty.Forgive(result.Shard);
        }
        else if (_faulty.Confirmed(result.Shard) is ({ } blamed, var count)) Blame(blamed, result, count, step);
        step.Accept(sender, result);
        if (step.IsComplete) CompleteStep(step);
    }

    /// <summary>The active worker other than <paramref name="sender"/> that computes <paramref name="shard"/> again (either exchange); null when there is none.</summary>
    private IActorRef? SecondOpinionFor(int shard, IActorRef sender)
    {
        var others = _roster.Active.Where(w => !w.Equals(sender)).ToList();
        return others.Count == 0 ? null : others[shard % others.Count];
    }

    /// <summary>Asks another active worker for a shard whose result was not finite; false when there is none.</summary>
    private bool RecomputeElsewhere(ShardSum result, IActorRef sender, StepInFlight<IActorRef> step)
    {
        if (SecondOpinionFor(result.Shard, sender) is not { } other) return false;
        _log.Warning("Step {0}: shard {1} from {2} is not finite; computing it again on {3}", result.Step, result.Shard, sender.Path, other.Path);
        Send(step, result.Shard, other);
        return true;
    }

    /// <summary>A worker whose shard was not finite where another's was: named, counted, removed at the limit.</summary>
    private void Blame(IActorRef worker, ShardSum result, int count, StepInFlight<IActorRef> step)
    {
        _log.Error("Worker {0} sent a non-finite result for shard {1} of step {2} that another worker computed finite ({3} of at most {4})",
            worker.Path, result.Shard, result.Step, count, _plan.MaxBadShards);
        if (!_faulty.Exhausted(count)) return;
        var reason = $"{count} shard results that were not finite where other workers' were (--max-bad-shards {_plan.MaxBadShards})";
        _log.Error("Removed worker {0}: {1}", worker.Path, reason);
        worker.Tell(new WorkerRefused(reason, Removed: true));
        OnWorkerLost(worker, step);
    }

    private void CompleteStep(StepInFlight<IActorRef> step)
    {
        var reducer = step.Reducer;
        StepOutcome outcome;
        try { outcome = _master.Apply(step.Step, reducer.MeanGradient()); }
        catch (NonFiniteGradientException e)
        {
            StopOnNonFinite(e);
            return;
        }
        _links.StepReduced(step.Step);
        StepDone(step.Step, reducer.SampleCount, reducer.LossSum, step.Shards.Length, outcome);
    }

    /// <summary>A non-finite global norm under <c>--nonfinite error</c>: the run stops at the last completed step.</summary>
    private void StopOnNonFinite(NonFiniteGradientException e)
    {
        _log.Error(e, "Training stopped at step {0}", _step);
        foreach (var w in _roster.All) w.Tell(new TrainingFinished(_step, e.Message));
        _done.TrySetException(new TrainingStoppedException(Summary(null), e));
        Context.Stop(Self);
    }

    /// <summary>How a step went, taken when it was decided: seconds from its planning, faulty shards confirmed in it.</summary>
    private readonly record struct StepTiming(double Seconds, int FaultyShards);

    private StepTiming TimingOfThisStep() => new(_stepClock.Elapsed.TotalSeconds, _faulty.ThisStep);

    /// <summary>The master has stepped (or skipped) step <paramref name="stepNumber"/>: it is recorded, then the next step starts.</summary>
    private void StepDone(long stepNumber, long samples, double lossSum, int shards, StepOutcome outcome)
    {
        var timing = TimingOfThisStep();
        _step++;
        if (Record(stepNumber, samples, lossSum, shards, outcome, timing)) StartStep();
    }

    /// <summary>
    /// Step <paramref name="stepNumber"/> is done (<see cref="_step"/> counts it already): the parameters out (central), the
    /// counts, the report, the checkpoint. False when the run ended here (the checkpoint could not be written).
    /// </summary>
    private bool Record(long stepNumber, long samples, double lossSum, int shards, StepOutcome outcome, StepTiming timing)
    {
        _samples += samples;
        if (outcome.Skipped) { _skipped++; _log.Warning("Skipped step {0}: global gradient norm is {1}", stepNumber, outcome.GradNorm); }
        if (outcome.Clipped) _clipped++;
        if (!outcome.Skipped && !Sharded) _links.Broadcast(_roster.All, _master.Version, _master.CopyValuesTo);
        _deadline.StepTook(timing.Seconds);
        _observer.OnStep(new StepReport(stepNumber, (int)(stepNumber / _batches.StepsPerEpoch), lossSum / samples,
            (int)samples, shards, outcome, timing.Seconds, timing.FaultyShards));
        try { _checkpoints?.OnStepCompleted(Counters, _master); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("The checkpoint after step {0} could not be written: {1}", _step, e.Message);
            Finish($"the checkpoint after step {_step} could not be written ({e.Message})", checkpoint: false);
            return false;
        }
        return true;
    }

    private void OnShardRefused(ShardRefused refused, StepInFlight<IActorRef> step)
    {
        if (refused.Step != step.Step) return;
        _log.Warning("Worker {0} refused shard {1} of step {2}: {3}; resending parameters", Sender.Path, refused.Shard, refused.Step, refused.Reason);
        if (!step.Outstanding(Sender).Contains(refused.Shard)) return;
        _links.SendParameters(Sender, _master.Version, _master.CopyValuesTo);
        Sender.Tell(step.Request(refused.Shard));
    }

    /// <summary>
    /// A worker node the failure detector gave up on loses its workers' shards at once (the cluster removes the node
    /// later, or it comes back); when it is reachable again, those workers are told the job ended for them, and join again.
    /// </summary>
    /// <returns>The workers given up on and their names (none when the node is reachable again).</returns>
    private List<(IActorRef Worker, string? Name)> OnReachability(WorkerNodeReachability node, StepInFlight<IActorRef>? step)
    {
        if (!node.Reachable)
        {
            var lost = _roster.All.Where(w => w.Path.Address.Equals(node.Node)).Select(w => (w, NameOf(w))).ToList();
            foreach (var (worker, _) in lost)
            {
                _log.Warning("Worker {0} is unreachable; its shards go to the others", worker.Path);
                _unreachable.Add(worker);
                OnWorkerLost(worker, step);
                worker.Tell(new TrainingFinished(_step, GivenUp: true));   // should it be alive after all, it joins again
            }
            return lost;
        }
        foreach (var worker in _unreachable.Where(w => w.Path.Address.Equals(node.Node)).ToList())
        {
            _unreachable.Remove(worker);
            worker.Tell(new TrainingFinished(_step, GivenUp: true));
        }
        return [];
    }

    private void OnWorkerLost(IActorRef worker, StepInFlight<IActorRef>? step)
    {
        _gate.Forget(worker);
        var names = _nameOf.Where(kv => kv.Value.Equals(worker)).Select(kv => kv.Key).ToList();
        foreach (var name in names) _nameOf.Remove(name);
        _replicaAtStep.Remove(worker);
        if (!_roster.Remove(worker)) return;
        _links.Remove(worker);
        foreach (var name in names) _observer.OnWorkerLeft(name);
        if (step is null) return;
        var orphans = step.Release(worker);
        _log.Warning("Worker {0} left during step {1}; re-assigning {2} shard(s) to {3} survivor(s)", worker.Path, step.Step, orphans.Count, _roster.Active.Count);
        AssignOrphans(step);
    }

    private void AssignOrphans(StepInFlight<IActorRef> step)
    {
        var orphans = step.Unassigned();
        if (orphans.Count == 0) return;
        var takers = _roster.TakeOrphans(orphans.Count);
        if (takers.Count == 0) { _log.Warning("No workers left; waiting for one to join"); return; }
        for (int i = 0; i < orphans.Count; i++) Send(step, orphans[i], takers[i]);
    }

    /// <summary>Ends the run: after the last step, or at once when <paramref name="stoppedBecause"/> is given (the step in flight is dropped).</summary>
    private void Finish(string? stoppedBecause = null, bool checkpoint = true)
    {
        Timers.CancelAll();
        _clock.Stop();
        if (checkpoint)
        {
            try { _checkpoints?.OnRunEnded(Counters, _master); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _log.Error("The checkpoint at step {0} could not be written: {1}", _step, e.Message); }
        }
        var summary = Summary(stoppedBecause);
        if (stoppedBecause is null) _log.Info("Training finished: {0} steps, {1} samples in {2:F1} s", summary.Steps, summary.Samples, summary.Seconds);
        else _log.Info("Training stopped after {0} of {1} steps: {2}", summary.Steps, _plan.TotalSteps, stoppedBecause);
        Context.Parent.Tell(JobFinished.Instance);  // before the workers hear it: they will ask the parent for the next job
        foreach (var w in _roster.All) w.Tell(new TrainingFinished(summary.Steps, stoppedBecause));
        _done.TrySetResult(summary);
        Become(Finished);
    }

    private RunCounters Counters => new(_step, _master.Version, _skipped, _clipped, _samples);

    /// <summary>What the run has done: every completed step (the master weights hold the last one).</summary>
    private TrainingSummary Summary(string? stoppedBecause) =>
        new(_step, _skipped, _clipped, _samples, _clock.Elapsed.TotalSeconds, _master.Version, stoppedBecause, _plan.Resumed?.Samples ?? 0);
}
