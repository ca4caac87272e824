// A coordinator node: the JobHost singleton on this process's cluster node, running one job after another.
using Akka.Actor;
using Akka.Cluster;
using DistClip.Coordinator;
using DistClip.Hosting.Metrics;

namespace DistClip.Hosting;

/// <summary>
/// A coordinator node: the <see cref="JobHost"/> runs as the cluster singleton of the
/// <c>coordinator</c> role and each <see cref="RunAsync"/> is one training job on it. Workers stay in the
/// cluster between jobs; disposing the node leaves the cluster, which ends the worker processes. With a metrics endpoint, the
/// node is ready from when its member is up (workers can join) until it leaves, and its links count their bytes there.
/// </summary>
public sealed class CoordinatorNode : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _jobHost;
    private readonly NodeSettings _node;
    private readonly MetricsEndpoint? _metrics;

    public Address Address => Cluster.Get(_system).SelfAddress;

    private CoordinatorNode(NodeSettings node, MetricsEndpoint? metrics)
    {
        (_node, _metrics) = (node, metrics);
        _system = ClusterNode.Start(node);
        if (metrics is not null)
        {
            metrics.Health.Follow(_system);
            Cluster.Get(_system).RegisterOnMemberUp(() => metrics.Health.SetReady(true));
        }
        ClusterNode.StartCoordinatorSingleton(_system, JobHost.Props());
        _jobHost = ClusterNode.CoordinatorProxy(_system);
        _system.ActorOf(ReachabilityWatcher.Props(_jobHost), "reachability-watcher");
    }

    public static CoordinatorNode Start(NodeSettings node, MetricsEndpoint? metrics = null) => new(node, metrics);

    /// <summary>Runs one job to its end on the cluster's workers (or, when <paramref name="stop"/> is requested, to its last completed step).</summary>
    /// <exception cref="TrainingEndedException">The coordinator stopped before its last step (for example, this node was removed from the cluster).</exception>
    public async Task<TrainingResult> RunAsync(CoordinatorSetup setup, ITrainingObserver observer, StopRequest? stop = null)
    {
        var done = new TaskCompletionSource<TrainingSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        _jobHost.Tell(new RunJob(setup.Props(observer, done, _node.Bulk(0, _metrics?.Traffic), _node.Secret)));
        using var stopping = stop?.Token.Register(() => _jobHost.Tell(new StopTraining(stop.Reason!)));
        try { return await setup.ResultOf(done.Task).ConfigureAwait(false); }
        catch (TrainingEndedException e) when (RemovedFromCluster())
        {
            throw new TrainingEndedException(e.Partial, new IOException(
                "this coordinator node was removed from the cluster: it was cut off from its workers for longer than the cluster's failure detection allows", e.InnerException));
        }
    }

    /// <summary>Tells the node's job host that no job follows the last one, which completed after <paramref name="steps"/>: workers that ask to join hear the run is over.</summary>
    public void EndJobs(long steps) => _jobHost.Tell(new NoMoreJobs(steps, _node.Secret));

    /// <summary>Whether this node has been downed (it stops its actors, the coordinator among them, as it goes).</summary>
    private bool RemovedFromCluster()
    {
        var cluster = Cluster.Get(_system);
        return cluster.IsTerminated || cluster.SelfMember.Status is MemberStatus.Down or MemberStatus.Removed or MemberStatus.Exiting
            || _system.WhenTerminated.Wait(TimeSpan.FromSeconds(2));
    }

    public async ValueTask DisposeAsync()
    {
        await Task.Delay(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);  // let TrainingFinished reach the workers
        _metrics?.Health.Release(_system);
        await ClusterNode.LeaveAsync(_system).ConfigureAwait(false);
    }
}
