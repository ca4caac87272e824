// The coordinator actor: admits workers, hands out shards, reduces, clips, steps and broadcasts.
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DistClip.Coordinator.Planning;
using DistClip.Protocol;
using DistClip.Protocol.Bulk;
using DistClip.Protocol.Wire;

namespace DistClip.Coordinator;

/// <summary>
/// Routes the step protocol of DESIGN.md. The math lives elsewhere: <see cref="ShardPlan"/> splits a
/// batch, <see cref="StepInFlight{TWorker}"/> checks and reduces results in shard order,
/// <see cref="MasterWeights"/> clips by the true global norm and steps the optimizer.
/// Workers admitted during a step join at the next step; a worker that dies mid-step has its
/// outstanding shards re-assigned to the survivors. Gradients from remote workers arrive as chunks
/// and are reassembled before they are checked and reduced.
/// </summary>
public sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    private sealed record StepTimedOut(long Step);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MasterWeights _master;
    private readonly BatchSchedule _batches;
    private readonly TrainingPlan _plan;
    private readonly ITrainingObserver _observer;
    private readonly TaskCompletionSource<TrainingSummary> _done;
    private readonly TrainingJob _job;
    private readonly ChunkAssembler<(IActorRef Sender, long Step, int Shard)> _gradientChunks = new();
    private readonly BulkSettings? _bulkSettings;
    private readonly long _bulkToken = Random.Shared.NextInt64();
    private readonly Dictionary<IActorRef, string> _bulkEndpointOf = [];   // workers with a bulk channel
    private readonly Dictionary<string, IActorRef> _workerNamed = [];      // registered workers by name, for bulk arrivals
    private readonly List<IActorRef> _workers = [];   // active, in admission order (rank order)
    private readonly List<IActorRef> _joining = [];   // admitted mid-step; active from the next step
    private readonly Stopwatch _clock = new();
    private readonly Stopwatch _stepClock = new();
    private readonly float[] _reductionBuffer;       // reused every step: the mean gradient is formed here
    private readonly List<float[]> _bulkBuffersOfStep = [];  // arrived gradients, back to the bulk channel once reduced
    private BulkChannel? _bulk;
    private SharedMemoryPeers<IActorRef>? _shared;   // workers on this host: exchange through shared memory
    private StepInFlight<IActorRef>? _inFlight;
    private long _step, _skipped, _clipped, _samples;
    private int _nextAssignee;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="bulk">Where to open the bulk channel remote workers send gradients to; null inside one process.</param>
    public CoordinatorActor(TrainingJob job, MasterWeights master, BatchSchedule batches, TrainingPlan plan, ITrainingObserver observer,
        TaskCompletionSource<TrainingSummary> done, BulkSettings? bulk = null)
    {
        (_job, _master, _batches, _plan, _observer, _done, _bulkSettings) = (job, master, batches, plan.Validate(), observer, done, bulk);
        _reductionBuffer = new float[master.ExchangeLength];
        Receive<JoinRequest>(OnJoinRequest);
        Receive<RegisterWorker>(OnRegister);
        Receive<ShardGradients>(g => OnShardGradients(g, Sender));
        Receive<GradientChunk>(OnGradientChunk);
        Receive<BulkArrival>(OnBulkArrival);
        Receive<ShardGradientsShared>(OnSharedGradients);
        Receive<ShardRefused>(OnShardRefused);
        Receive<Terminated>(t => OnWorkerLost(t.ActorRef));
        Receive<StepTimedOut>(OnStepTimedOut);
        Receive<StopTraining>(stop => Finish(stop.Reason));
    }

    public static Props Props(TrainingJob job, MasterWeights master, BatchSchedule batches, TrainingPlan plan, ITrainingObserver observer,
        TaskCompletionSource<TrainingSummary> done, BulkSettings? bulk = null) =>
        Akka.Actor.Props.Create(() => new CoordinatorActor(job, master, batches, plan, observer, done, bulk));

    /// <summary>Run on <see cref="AkkaDefaults.CoordinatorDispatcher"/>, this sets the pinned thread's intra-op threads.</summary>
    protected override void PreStart()
    {
        TorchSharp.torch.set_num_threads(_plan.IntraOpThreads);
        if (_bulkSettings is null) return;
        var self = Self;
        var log = _log;
        _bulk = _bulkSettings.Open((int)_master.ExchangeLength, m => self.Tell(new BulkArrival(m)), w => log.Warning(w));
        _log.Info("Bulk channel listening at {0}", _bulk.Endpoint);
        if (!_bulkSettings.SharedMemory) return;
        try { _shared = new SharedMemoryPeers<IActorRef>(_bulkSettings.SharedMemoryDirectory!, _bulkToken, (int)_master.ExchangeLength); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("No shared memory for workers on this host ({0}); they use the bulk channel", e.Message);
        }
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
        _bulk?.Dispose();
        _shared?.Dispose();
        _done.TrySetException(new TrainingStoppedException(Summary(null), new InvalidOperationException($"The coordinator stopped at step {_step} of {_plan.TotalSteps}.")));
    }

    private bool Started => _clock.IsRunning;

    private void OnJoinRequest(JoinRequest join)
    {
        if (join.Protocol != ProtocolVersion.Current)
        {
            var reason = $"protocol mismatch: worker {join.WorkerName} speaks DistClip protocol v{join.Protocol}, the coordinator v{ProtocolVersion.Current}";
            _log.Error("Refused worker {0}: {1}", join.WorkerName, reason);
            Sender.Tell(new WorkerRefused(reason));
            return;
        }
        Sender.Tell(new JobOffer(_job, _bulk?.Endpoint, _bulkToken, _shared?.ParametersPath));
    }

    private void OnRegister(RegisterWorker register)
    {
        if (register.Signature.Hash != _master.Signature.Hash)
        {
            var reason = $"model mismatch: worker {register.WorkerName} has parameters {register.Signature.Description} " +
                         $"(hash {register.Signature.Hash}), the coordinator's model has hash {_master.Signature.Hash}";
            _log.Error("Refused worker {0}: {1}", register.WorkerName, reason);
            Sender.Tell(new WorkerRefused(reason));
            return;
        }
        if (_workers.Contains(Sender) || _joining.Contains(Sender)) return;
        Context.Watch(Sender);
        _workerNamed[register.WorkerName] = Sender;
        if (register.BulkEndpoint is not null && _bulk is not null) _bulkEndpointOf[Sender] = register.BulkEndpoint;
        string? noSharedMemory = null;
        bool shared = register.SharedMemoryPath is not null && _shared is not null && _shared.TryAdd(Sender, register.SharedMemoryPath, out noSharedMemory);
        if (noSharedMemory is not null) _log.Warning("Worker {0} uses the bulk channel: its shared segment did not open ({1})", register.WorkerName, noSharedMemory);
        Sender.Tell(new WorkerAdmitted(_master.Version, shared));
        SendParameters(Sender);
        _log.Info("Admitted worker {0} on {1} ({2} parameters)", register.WorkerName, register.Device, register.Signature.ElementCount);
        _observer.OnWorkerAdmitted(register.WorkerName, register.Device,
            shared ? Exchange.SharedMemory : _bulkEndpointOf.ContainsKey(Sender) ? Exchange.BulkChannel : Sender.Path.Address.HasGlobalScope ? Exchange.Chunks : Exchange.InProcess);
        if (_inFlight is null) _workers.Add(Sender); else _joining.Add(Sender);

        if (!Started && _workers.Count >= _plan.MinWorkers) StartTraining();
        else if (_inFlight is not null) AssignOrphans();
    }

    private void StartTraining()
    {
        _log.Info("Training starts with {0} workers: {1} steps, {2} steps per epoch", _workers.Count, _plan.TotalSteps, _batches.StepsPerEpoch);
        _clock.Start();
        StartStep();
    }

    private void StartStep()
    {
        if (_step >= _plan.TotalSteps) { Finish(); return; }
        _workers.AddRange(_joining);
        _joining.Clear();
        _stepClock.Restart();
        var shards = ShardPlan.Split(_batches.GlobalBatch(_step), _workers.Count);
        _inFlight = new StepInFlight<IActorRef>(_step, _master.Version, shards, _reductionBuffer, (int)(_step / _batches.StepsPerEpoch));
        for (int r = 0; r < shards.Length; r++) Send(r, _workers[r]);
        Timers.StartSingleTimer(nameof(StepTimedOut), new StepTimedOut(_step), TimeSpan.FromSeconds(_plan.StepTimeoutSeconds));
    }

    private void OnStepTimedOut(StepTimedOut timeout)
    {
        if (_inFlight is null || _inFlight.Step != timeout.Step) return;
        foreach (var worker in _workers.ToList())
            foreach (var shard in _inFlight.Outstanding(worker))
            {
                _log.Warning("Step {0}: no result for shard {1} from {2} after {3} s; asking again", timeout.Step, shard, worker.Path, _plan.StepTimeoutSeconds);
                worker.Tell(_inFlight.Request(shard));
            }
        Timers.StartSingleTimer(nameof(StepTimedOut), timeout, TimeSpan.FromSeconds(_plan.StepTimeoutSeconds));
    }

    private void Send(int shard, IActorRef worker)
    {
        _inFlight!.Assign(shard, worker);
        worker.Tell(_inFlight.Request(shard));
    }

    private void OnGradientChunk(GradientChunk c)
    {
        if (_inFlight is null || c.Step != _inFlight.Step) { _log.Warning("Dropped a gradient chunk of step {0} from {1}: not the current step", c.Step, Sender.Path); return; }
        var values = _gradientChunks.Add((Sender, c.Step, c.Shard), c.ElementCount, c.ChunkCount, c.Offset, c.Data, out var rejection);
        if (rejection is not null) _log.Warning("Dropped a gradient chunk from {0}: {1}", Sender.Path, rejection);
        if (values is not null) OnShardGradients(new ShardGradients(c.Step, c.Version, c.Shard, c.SampleCount, c.LossSum, values), Sender);
    }

    private void OnBulkArrival(BulkArrival arrival)
    {
        var m = arrival.Message;
        if (m.Token != _bulkToken || m.Kind != BulkKind.Gradients || !_workerNamed.TryGetValue(m.From, out var worker))
        {
            _log.Warning("Dropped a bulk frame from '{0}': not a registered worker's gradients for this run", m.From);
            return;
        }
        _bulkBuffersOfStep.Add(m.Values);  // the reducer may hold it until the lower shards arrive: back when the step completes
        OnShardGradients(m.AsGradients(), worker);
    }

    private void OnSharedGradients(ShardGradientsShared result)
    {
        string? rejection = "this coordinator has no shared memory";
        if (_shared?.Read(Sender, result, out rejection) is { } sum) OnShardGradients(sum, Sender);
        else _log.Warning("Dropped a shard result from {0}: {1}", Sender.Path, rejection);
    }

    private void OnShardGradients(ShardSum result, IActorRef sender)
    {
        if (_inFlight is null) { _log.Warning("Dropped shard result for step {0}: no step is in flight", result.Step); return; }
        var rejection = _inFlight.Accept(sender, result);
        if (rejection is not null) { _log.Warning("Dropped a shard result from {0}: {1}", sender.Path, rejection); return; }
        if (_inFlight.IsComplete) CompleteStep();
    }

    private void CompleteStep()
    {
        var step = _inFlight!;
        var reducer = step.Reducer;
        StepOutcome outcome;
        try { outcome = _master.Apply(step.Step, reducer.MeanGradient()); }
        catch (NonFiniteGradientException e)
        {
            _log.Error(e, "Training stopped at step {0}", step.Step);
            _done.TrySetException(new TrainingStoppedException(Summary(null), e));
            Context.Stop(Self);
            return;
        }
        _inFlight = null;
        _gradientChunks.Forget(k => k.Step <= step.Step);
        foreach (var buffer in _bulkBuffersOfStep) _bulk!.Buffers.Return(buffer);  // every shard of the step is reduced now
        _bulkBuffersOfStep.Clear();
        _samples += reducer.SampleCount;
        if (outcome.Skipped) { _skipped++; _log.Warning("Skipped step {0}: global gradient norm is {1}", step.Step, outcome.GradNorm); }
        if (outcome.Clipped) _clipped++;
        if (!outcome.Skipped) Broadcast();
        _observer.OnStep(new StepReport(step.Step, (int)(step.Step / _batches.StepsPerEpoch), reducer.LossSum / reducer.SampleCount,
            (int)reducer.SampleCount, step.Shards.Length, outcome, _stepClock.Elapsed.TotalSeconds));
        _step++;
        StartStep();
    }

    private void Broadcast()
    {
        var recipients = _workers.Concat(_joining).ToList();
        var sharing = recipients.Where(w => _shared?.Has(w) == true).ToList();
        // One write into the shared segment serves them all; no message: the next step's request names the
        // version, and a worker loads it from the segment when the request arrives (the segment holds the
        // master's version whenever a request is out, as it is rewritten only after all results are in).
        if (sharing.Count > 0) _shared!.PublishParameters(_master.Version, _master.CopyValuesTo);
        var others = recipients.Except(sharing).ToList();
        if (others.Count == 0) return;
        var update = _master.Snapshot();
        var self = Self;
        // Bulk sends in parallel: each blocks until its frame is written, and the workers wait for all of them.
        if (others.Count(_bulkEndpointOf.ContainsKey) > 1) Parallel.ForEach(others, w => SendParameters(w, update, self));
        else foreach (var worker in others) SendParameters(worker, update, self);
    }

    /// <summary>The current parameters to one worker: through shared memory when it is on this host, else as a <see cref="ParameterUpdate"/>.</summary>
    private void SendParameters(IActorRef worker)
    {
        if (_shared?.Has(worker) == true)
        {
            _shared.PublishParameters(_master.Version, _master.CopyValuesTo);
            worker.Tell(new ParametersShared(_master.Version));
        }
        else SendParameters(worker, _master.Snapshot(), Self);
    }

    /// <remarks>Touches no actor state but the read-only endpoint map, so broadcasts may call it from several threads.</remarks>
    private void SendParameters(IActorRef worker, ParameterUpdate update, IActorRef self)
    {
        if (_bulk is not null && _bulkEndpointOf.TryGetValue(worker, out var endpoint))
        {
            try { _bulk.Send(endpoint, BulkMessage.Of(update, _bulkToken, "coordinator")); return; }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                _log.Warning("Bulk channel to {0} at {1} failed ({2}); sending through Akka instead", worker.Path, endpoint, e.Message);
            }
        }
        Chunking.Send(worker, update, self);
    }

    private void OnShardRefused(ShardRefused refused)
    {
        if (_inFlight is null || refused.Step != _inFlight.Step) return;
        _log.Warning("Worker {0} refused shard {1} of step {2}: {3}; resending parameters", Sender.Path, refused.Shard, refused.Step, refused.Reason);
        if (!_inFlight.Outstanding(Sender).Contains(refused.Shard)) return;
        SendParameters(Sender);
        Sender.Tell(_inFlight.Request(refused.Shard));
    }

    private void OnWorkerLost(IActorRef worker)
    {
        _workers.Remove(worker);
        _joining.Remove(worker);
        _bulkEndpointOf.Remove(worker);
        _shared?.Remove(worker);
        foreach (var name in _workerNamed.Where(kv => kv.Value.Equals(worker)).Select(kv => kv.Key).ToList()) _workerNamed.Remove(name);
        if (_inFlight is null) return;
        var orphans = _inFlight.Release(worker);
        _log.Warning("Worker {0} left during step {1}; re-assigning {2} shard(s) to {3} survivor(s)", worker.Path, _inFlight.Step, orphans.Count, _workers.Count);
        AssignOrphans();
    }

    private void AssignOrphans()
    {
        var candidates = _workers.Count > 0 ? _workers : _joining;
        if (candidates.Count == 0) { _log.Warning("No workers left; waiting for one to join"); return; }
        foreach (var shard in _inFlight!.Unassigned())
        {
            var worker = candidates[_nextAssignee++ % candidates.Count];
            if (_joining.Contains(worker)) { _workers.Add(worker); _joining.Remove(worker); }
            Send(shard, worker);
        }
    }

    /// <summary>Ends the run: after the last step, or at once when <paramref name="stoppedBecause"/> is given (the step in flight is dropped).</summary>
    private void Finish(string? stoppedBecause = null)
    {
        Timers.CancelAll();
        _clock.Stop();
        _inFlight = null;
        var summary = Summary(stoppedBecause);
        if (stoppedBecause is null) _log.Info("Training finished: {0} steps, {1} samples in {2:F1} s", summary.Steps, summary.Samples, summary.Seconds);
        else _log.Info("Training stopped after {0} of {1} steps: {2}", summary.Steps, _plan.TotalSteps, stoppedBecause);
        Context.Parent.Tell(JobFinished.Instance);  // before the workers hear it: they will ask the parent for the next job
        foreach (var w in _workers.Concat(_joining)) w.Tell(new TrainingFinished(summary.Steps));
        _done.TrySetResult(summary);
        Become(Finished);
    }

    /// <summary>What the run has done: every completed step (the master weights hold the last one).</summary>
    private TrainingSummary Summary(string? stoppedBecause) =>
        new(_step, _skipped, _clipped, _samples, _clock.Elapsed.TotalSeconds, _master.Version, stoppedBecause);

    /// <summary>After the last step: late results and join requests are for nobody.</summary>
    private void Finished()
    {
        ReceiveAny(m => _log.Debug("Training is over; ignored {0} from {1}", m.GetType().Name, Sender.Path));
    }
}
