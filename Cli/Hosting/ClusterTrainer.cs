// The multi-node deployment: a coordinator node that runs the singleton, and worker nodes that host worker actors.
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using DistClip.Coordinator;
using DistClip.Protocol;
using DistClip.Worker;
using static TorchSharp.torch;

namespace DistClip.Cli.Hosting;

/// <summary>
/// Runs the step protocol across processes: the coordinator is a cluster singleton on the
/// <c>coordinator</c> role; each worker node hosts one worker actor per local device, which reaches
/// the coordinator through a singleton proxy and reads the data set from its own local path.
/// </summary>
public static class ClusterTrainer
{
    /// <summary>Runs a coordinator node until training ends, then leaves the cluster.</summary>
    public static async Task<TrainingResult> RunCoordinatorAsync(TrainingSettings settings, NodeSettings node, int minWorkers, ITrainingObserver observer, TextWriter output)
    {
        settings.Validate();
        var train = EmbeddedTrainer.LoadTrainSplit(settings);
        set_num_threads(settings.Threads);
        var setup = CoordinatorSetup.Create(settings, train, minWorkers);
        var done = new TaskCompletionSource<TrainingSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        var system = ClusterNode.Start(node);
        try
        {
            ClusterNode.StartCoordinatorSingleton(system, setup.Props(observer, done, node.Bulk(0)));
            output.WriteLine($"coordinator listening at {Cluster.Get(system).SelfAddress}; waiting for {minWorkers} worker actor(s)");
            var summary = await done.Task.ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);  // let TrainingFinished reach the workers
            return setup.Result(summary);
        }
        finally
        {
            await ClusterNode.LeaveAsync(system).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs a worker node with <paramref name="workers"/> worker actors until they have all stopped
    /// (training finished, or refused) or the coordinator's node has left the cluster.
    /// </summary>
    public static async Task RunWorkersAsync(NodeSettings node, int workers, string device, int threads, string? dataDir)
    {
        if (node.SeedNodes.Count == 0)
            throw new ArgumentException("A worker needs --seed-nodes (or DISTCLIP_SEED_NODES), for example akka.tcp://distclip@coordinator-host:4053.");
        var devices = EmbeddedTrainer.WorkerDevices(device, workers);
        var system = ClusterNode.Start(node);
        try
        {
            var proxy = ClusterNode.CoordinatorProxy(system);
            var data = new TrainingData(dataDir);
            var stopped = Enumerable.Range(0, workers).Select(i =>
            {
                var ws = new WorkerSettings($"{Cluster.Get(system).SelfAddress.Host}:{Cluster.Get(system).SelfAddress.Port}/worker-{i}", devices[i], threads);
                var worker = system.ActorOf(WorkerActor.Props(proxy, ws, data.For, node.Bulk(i)).WithDispatcher(AkkaDefaults.WorkerDispatcher), $"worker-{i}");
                return worker.WatchAsync();
            }).ToArray();
            var coordinatorLeft = CoordinatorLeft(system);
            await Task.WhenAny(Task.WhenAll(stopped), coordinatorLeft).ConfigureAwait(false);
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
