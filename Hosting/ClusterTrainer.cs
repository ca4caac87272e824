// The multi-node deployment: a coordinator node that runs jobs through the JobHost singleton, and worker nodes that host worker actors.
using Akka.Actor;
using Akka.Cluster;
using DistClip.Coordinator;
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
    /// <summary>Runs a coordinator node for the one job <paramref name="setup"/> describes, then leaves the cluster.</summary>
    public static async Task<TrainingResult> RunCoordinatorAsync(CoordinatorSetup setup, NodeSettings node, int threads, ITrainingObserver observer, TextWriter output, StopRequest? stop = null)
    {
        set_num_threads(threads);
        await using var coordinator = CoordinatorNode.Start(node);
        output.WriteLine($"coordinator listening at {coordinator.Address}; waiting for {setup.Plan.MinWorkers} worker actor(s)");
        return await coordinator.RunAsync(setup, observer, stop).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a worker node with <paramref name="workers"/> worker actors until the coordinator's node has
    /// left the cluster (workers serve job after job until then) or every worker actor has stopped (refused).
    /// </summary>
    /// <param name="cpus">CPUs to pin the worker actors to, <paramref name="threads"/> each, or null.</param>
    /// <param name="stop">Leaves the cluster when cancelled (a signal).</param>
    public static async Task RunWorkersAsync(NodeSettings node, int workers, string device, int threads, string? dataDir, IReadOnlyList<int>? cpus = null, CancellationToken stop = default)
    {
        if (node.SeedNodes.Count == 0)
            throw new ArgumentException("A worker needs --seed-nodes (or DISTCLIP_SEED_NODES), for example akka.tcp://distclip@coordinator-host:4053.");
        var devices = EmbeddedTrainer.WorkerDevices(device, workers);
        var system = ClusterNode.Start(node, workers);
        try
        {
            var proxy = ClusterNode.CoordinatorProxy(system);
            var data = new TrainingData(dataDir);
            var self = Cluster.Get(system).SelfAddress;
            var stopped = Enumerable.Range(0, workers).Select(i =>
            {
                var ws = new WorkerSettings($"{self.Host}:{self.Port}/worker-{i}", devices[i], threads, cpus is null ? null : CpuAffinity.ShareOf(cpus, i, threads));
                var worker = system.ActorOf(WorkerActor.Props(proxy, ws, data.For, node.Bulk(i)).WithDispatcher(AkkaDefaults.WorkerDispatcher), $"worker-{i}");
                return worker.WatchAsync();
            }).ToArray();
            await Task.WhenAny(Task.WhenAll(stopped), CoordinatorLeft(system), Task.Delay(Timeout.Infinite, stop)).ConfigureAwait(false);
        }
        finally
        {
            await ClusterNode.LeaveAsync(system).ConfigureAwait(false);
        }
    }

    private static Task CoordinatorLeft(ActorSystem system)
    {
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new CoordinatorWatcher(left)), "coordinator-watcher");
        return left.Task;
    }

    /// <summary>Completes when a member with the coordinator role is removed from the cluster.</summary>
    private sealed class CoordinatorWatcher : ReceiveActor
    {
        public CoordinatorWatcher(TaskCompletionSource left)
        {
            Receive<ClusterEvent.MemberRemoved>(m => { if (m.Member.HasRole("coordinator")) left.TrySetResult(); });
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
