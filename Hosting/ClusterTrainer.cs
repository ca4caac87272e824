// The multi-node deployment: a coordinator node that runs jobs through the JobHost singleton, and worker nodes that host worker actors.
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using DistClip.Coordinator;
using DistClip.Exchange;
using DistClip.Exchange.Tls;
using DistClip.Hosting.Metrics;
using DistClip.Protocol;
using DistClip.Worker;
using static TorchSharp.torch;

namespace DistClip.Hosting;

/// <summary>
/// Runs the step protocol across processes: the coordinator is a cluster singleton on the
/// <c>coordinator</c> role; each worker node hosts one worker actor per local device, which reaches
/// the coordinator through a singleton proxy and reads the data set from its own local path.
/// </summary>
public static class ClusterTrainer
{
    /// <summary>What a node under <c>--tls</c> says as it starts; the OpenSSL named sets much of what TLS costs (<see cref="OpenSslVersion"/>).</summary>
    private static string TlsNotice => $"mutual TLS on every connection (Akka.Remote and the bulk channel), encrypted with {OpenSslVersion.Description}";

    /// <summary>
    /// Runs a coordinator node for the one job <paramref name="setup"/> describes, then leaves the cluster — once the run has
    /// completed, after telling the workers that ask to join that it is over, for <paramref name="linger"/>'s time if one is given.
    /// </summary>
    /// <param name="metrics">Follows the node's health and readiness, and its links' bytes; null: no endpoint.</param>
    public static async Task<TrainingResult> RunCoordinatorAsync(CoordinatorSetup setup, NodeSettings node, int threads, ITrainingObserver observer, TextWriter output,
        StopRequest? stop = null, CompletedRunLinger? linger = null, MetricsEndpoint? metrics = null)
    {
        set_num_threads(threads);
        var coordinator = CoordinatorNode.Start(node, metrics);
        TrainingResult result;
        try
        {
            output.WriteLine($"coordinator listening at {coordinator.Address}; waiting for {setup.Plan.MinWorkers} worker actor(s)");
            if (node.Tls is not null) output.WriteLine(TlsNotice);
            result = await coordinator.RunAsync(setup, observer, stop).ConfigureAwait(false);
        }
        catch
        {
            await coordinator.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (result.Summary.StoppedBecause is null) coordinator.EndJobs(result.Summary.Steps);
        if (linger is { Length.Ticks: > 0 } && result.Summary.StoppedBecause is null) linger.Begin(coordinator, output, stop?.Token ?? default);
        else await coordinator.DisposeAsync().ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Runs a worker node with <paramref name="workers"/> worker actors until the coordinator's node has left the
    /// cluster (workers serve job after job until then) or every worker actor has stopped (refused). A coordinator
    /// that disappears (killed, or cut off until the split-brain resolver downed this node) is waited for: the node
    /// joins again as a new member, its workers join the coordinator that is back, up to
    /// <paramref name="coordinatorTimeout"/> without one. A seed node that ends the connection before this node has joined
    /// (with TLS: it does not accept this node's certificate) is tried again after a growing pause, within the same timeout.
    /// </summary>
    /// <param name="cpus">CPUs to pin the worker actors to, <paramref name="threads"/> each, or null.</param>
    /// <param name="stop">Leaves the cluster when cancelled (a signal).</param>
    /// <param name="say">Told when the coordinator is lost and when it is joined again.</param>
    /// <param name="sendsNaN">Fault injection for tests (<see cref="WorkerSettings.SendsNaN"/>).</param>
    /// <param name="driftsReplica">Fault injection for tests (<see cref="WorkerSettings.DriftsReplica"/>).</param>
    /// <param name="metrics">Follows each membership's actor system, the actors' admissions and steps (<see cref="WorkerMetrics"/>) and their links' bytes; null: no endpoint.</param>
    /// <exception cref="TimeoutException">No coordinator could be reached for <paramref name="coordinatorTimeout"/>.</exception>
    public static async Task RunWorkersAsync(NodeSettings node, int workers, string device, int threads, string? dataDir, IReadOnlyList<int>? cpus,
        TimeSpan coordinatorTimeout, Action<string> say, CancellationToken stop = default, bool sendsNaN = false, MetricsEndpoint? metrics = null,
        bool driftsReplica = false)
    {
        if (node.SeedNodes.Count == 0)
            throw new ArgumentException("A worker needs --seed-nodes (or DISTCLIP_SEED_NODES), for example akka.tcp://distclip@coordinator-host:4053.");
        if (node.Tls is not null) say(TlsNotice);
        var devices = EmbeddedTrainer.WorkerDevices(device, workers);
        var data = new TrainingData(dataDir);
        var refusals = new RefusalNotices(say);
        var counts = metrics is null ? null : new WorkerMetrics(metrics.Registry, metrics.Health);
        var withoutCoordinator = Stopwatch.StartNew();   // since the start, or since the coordinator was last up
        var pause = TimeSpan.Zero;
        // Akka's own warnings about a seed node that does not answer yet are not shown (QuietDepartures): say once what is awaited.
        say($"waiting for a coordinator at {string.Join(", ", node.SeedNodes)} (up to {coordinatorTimeout.TotalSeconds:F0} s, --coordinator-timeout)");
        var noCoordinator = () => new TimeoutException(
            $"no coordinator reachable at {string.Join(", ", node.SeedNodes)} for {coordinatorTimeout.TotalSeconds:F0} s (--coordinator-timeout); this worker gives up.{TlsHint(node.Tls)}");
        for (int membership = 1; ; membership++)
        {
            var runOver = new RunOver();
            var end = await RunMembershipAsync(node, workers, devices, threads, data, cpus, Remaining(coordinatorTimeout, withoutCoordinator.Elapsed), (sendsNaN, driftsReplica), refusals, runOver, stop,
                metrics, counts).ConfigureAwait(false);
            switch (end)
            {
                case MembershipEnd.RunOver:
                    say($"the run is over: the coordinator completed it ({runOver.Steps} steps); nothing left to serve");
                    return;
                case MembershipEnd.NoCoordinator:
                    throw noCoordinator();
                case MembershipEnd.EndedBeforeJoining when !stop.IsCancellationRequested:
                    pause = RetryPause(pause);
                    if (withoutCoordinator.Elapsed + pause >= coordinatorTimeout) throw noCoordinator();
                    say($"the seed node ended the connection before this node joined{(node.Tls is null ? "" : " (with --tls: it may not accept this node's certificate — expired, or of another CA)")}; " +
                        $"trying again in {pause.TotalSeconds:F0} s");
                    try { await Task.Delay(pause, stop).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                    continue;
                case MembershipEnd.CoordinatorLost when !stop.IsCancellationRequested:
                    pause = TimeSpan.Zero;
                    withoutCoordinator.Restart();
                    say($"lost the coordinator; joining again as a new member (waiting up to {coordinatorTimeout.TotalSeconds:F0} s for one)");
                    continue;
                default:
                    return;
            }
        }
    }

    /// <summary>
    /// Under TLS 1.3 a coordinator that refuses this node's certificate only closes the connection: to this node that looks
    /// like no coordinator at all. Says what to look at: this node's certificate, when it has expired.
    /// </summary>
    private static string TlsHint(Exchange.Tls.ClusterTls? tls) =>
        tls is null ? ""
        : tls.Certificate.NotAfter < DateTime.Now ? $" This node's certificate expired at {tls.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC: give it a new one (distclip certs DIR --node NAME, with the cluster's CA)."
        : " (With --tls, a seed node that does not accept this node's certificate looks the same.)";

    private static TimeSpan Remaining(TimeSpan timeout, TimeSpan elapsed) => timeout > elapsed ? timeout - elapsed : TimeSpan.Zero;

    /// <summary>The pause before joining again after a membership that ended before it joined: 1 s, doubling, at most 30 s.</summary>
    private static TimeSpan RetryPause(TimeSpan last) => last == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(last.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));

    private enum MembershipEnd { RunOver, CoordinatorLeft, WorkersStopped, Stopped, CoordinatorLost, EndedBeforeJoining, NoCoordinator }

    /// <summary>One membership of this node in the cluster: from joining to the coordinator's end, loss or absence.</summary>
    private static async Task<MembershipEnd> RunMembershipAsync(NodeSettings node, int workers, string[] devices, int threads, TrainingData data,
        IReadOnlyList<int>? cpus, TimeSpan coordinatorTimeout, (bool SendsNaN, bool DriftsReplica) faults, RefusalNotices refusals, RunOver runOver, CancellationToken stop,
        MetricsEndpoint? metrics, WorkerMetrics? counts)
    {
        refusals.TakeLast();
        var system = ClusterNode.Start(node, workers, refusals);
        metrics?.Health.Follow(system);
        var refusal = new TaskCompletionSource<WorkerRefused>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lastJob = new LastJob();
        try
        {
            var coordinator = new CoordinatorMembership();
            system.ActorOf(Props.Create(() => new CoordinatorWatcher(coordinator)), "coordinator-watcher");
            var proxy = ClusterNode.CoordinatorProxy(system);
            var self = Cluster.Get(system).SelfAddress;
            var stopped = Enumerable.Range(0, workers).Select(i =>
            {
                string name = $"{self.Host}:{self.Port}/worker-{i}";
                counts?.Admitted(name, false);   // joining
                var ws = new WorkerSettings(name, devices[i], threads, cpus is null ? null : CpuAffinity.ShareOf(cpus, i, threads),
                    node.Secret, reason => refusal.TrySetResult(reason), faults.SendsNaN, JobEnded: why => lastJob.StoppedBecause = why, RunOver: steps => runOver.Steps = steps,
                    Admitted: counts is null ? null : admitted => counts.Admitted(name, admitted), Served: counts is null ? null : step => counts.Served(name, step), DriftsReplica: faults.DriftsReplica);
                var worker = system.ActorOf(WorkerActor.Props(proxy, ws, data.For, node.Bulk(i, metrics?.Traffic)).WithDispatcher(AkkaDefaults.WorkerDispatcher), $"worker-{i}");
                return worker.WatchAsync();
            }).ToArray();
            var cancelled = Task.Delay(Timeout.Infinite, stop);
            var joined = await Task.WhenAny(coordinator.Up.Task, Task.Delay(coordinatorTimeout, stop), system.WhenTerminated).ConfigureAwait(false);
            if (stop.IsCancellationRequested) return MembershipEnd.Stopped;
            // Only a refusal of a seed node's own certificate ends the worker: a stranger refused at its port is no reason to.
            if (joined != coordinator.Up.Task && system.WhenTerminated.IsCompleted && refusals.TakeLast() is { } refused
                && node.SeedNodes.Any(seed => refused.Contains(seed[(seed.IndexOf('@') + 1)..], StringComparison.Ordinal)))
                throw new RunEndedEarlyException($"the seed node is not of this cluster: {refused}; give every node a certificate of the same CA (--tls).", ExitCodes.BadInput);
            if (joined != coordinator.Up.Task) return system.WhenTerminated.IsCompleted ? MembershipEnd.EndedBeforeJoining : MembershipEnd.NoCoordinator;
            var ended = await Task.WhenAny(Task.WhenAll(stopped), coordinator.Left.Task, coordinator.Removed.Task, system.WhenTerminated, cancelled).ConfigureAwait(false);
            if (ended == cancelled) return MembershipEnd.Stopped;
            if (coordinator.Left.Task.IsCompleted)  // it may then be gone before its removal reaches us
            {
                if (lastJob.StoppedBecause is { } why)
                    throw new RunEndedEarlyException($"the coordinator ended the run before its last step ({why}); this worker exits with it.", ExitCodes.RunTimeFailure);
                return MembershipEnd.CoordinatorLeft;
            }
            if (ended == coordinator.Removed.Task || ended == system.WhenTerminated) return MembershipEnd.CoordinatorLost;
            if (runOver.Steps is not null) return MembershipEnd.RunOver;   // the coordinator answered: its last job has completed
            // Every worker actor stopped: refused by the coordinator — or stopped by this node's own shutdown after it was
            // downed, which stops the actors before the system has terminated.
            await Task.WhenAny(system.WhenTerminated, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            if (system.WhenTerminated.IsCompleted || CoordinatedShutdown.Get(system).ShutdownReason is not null) return MembershipEnd.CoordinatorLost;
            if (refusal.Task.IsCompleted)
                throw refusal.Task.Result switch
                {
                    { Removed: true } removed => new RunEndedEarlyException($"the coordinator removed this worker from the run: {removed.Reason}", ExitCodes.RunTimeFailure),
                    var refusedHere => new RunEndedEarlyException($"the coordinator refused this worker: {refusedHere.Reason}", refusedHere.AtRunTime ? ExitCodes.RunTimeFailure : ExitCodes.BadInput),
                };
            return MembershipEnd.WorkersStopped;
        }
        finally
        {
            metrics?.Health.Release(system);
            if (!system.WhenTerminated.IsCompleted) await ClusterNode.LeaveAsync(system).ConfigureAwait(false);
            await system.WhenTerminated.ConfigureAwait(false);
        }
    }

    /// <summary>What a worker actor of this node was told when it asked to join: the run is over, after this many steps (null: not that).</summary>
    private sealed class RunOver
    {
        private long _steps = -1;
        public long? Steps { get => Interlocked.Read(ref _steps) is var s and >= 0 ? s : null; set => Interlocked.Exchange(ref _steps, value ?? -1); }
    }

    /// <summary>How the last job this node's workers served ended: why it stopped before its last step, or null (completed, or none yet).</summary>
    private sealed class LastJob
    {
        private volatile string? _stoppedBecause;
        public string? StoppedBecause { get => _stoppedBecause; set => _stoppedBecause = value; }
    }

    /// <summary>What a worker node has seen of the coordinator's node: it came up; it left (the end of its jobs); it was removed.</summary>
    private sealed class CoordinatorMembership
    {
        public TaskCompletionSource Up { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Left { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Removed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Follows the member with the coordinator role: up; leaving (it leaves only when its jobs are done); removed.</summary>
    private sealed class CoordinatorWatcher : ReceiveActor
    {
        public CoordinatorWatcher(CoordinatorMembership coordinator)
        {
            Receive<ClusterEvent.MemberUp>(m => { if (m.Member.HasRole("coordinator")) coordinator.Up.TrySetResult(); });
            Receive<ClusterEvent.MemberLeft>(m => { if (m.Member.HasRole("coordinator")) coordinator.Left.TrySetResult(); });
            Receive<ClusterEvent.MemberExited>(m => { if (m.Member.HasRole("coordinator")) coordinator.Left.TrySetResult(); });
            Receive<ClusterEvent.MemberRemoved>(m =>
            {
                if (!m.Member.HasRole("coordinator")) return;
                if (m.PreviousStatus == MemberStatus.Exiting) coordinator.Left.TrySetResult();
                coordinator.Removed.TrySetResult();
            });
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberLeft), typeof(ClusterEvent.MemberExited), typeof(ClusterEvent.MemberRemoved));
        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
