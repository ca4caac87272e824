// Tells the coordinator which worker nodes the cluster's failure detector has given up on, and which came back.
using Akka.Actor;
using Akka.Cluster;
using DistClip.Coordinator;

namespace DistClip.Hosting;

/// <summary>
/// On a coordinator node: forwards the failure detector's verdicts on worker nodes to the job host as
/// <see cref="WorkerNodeReachability"/>, so that a dead worker process costs the run seconds, not the split-brain
/// resolver's stable-after.
/// </summary>
public sealed class ReachabilityWatcher : ReceiveActor
{
    public ReachabilityWatcher(IActorRef jobHost)
    {
        Receive<ClusterEvent.UnreachableMember>(m => { if (m.Member.HasRole("worker")) jobHost.Tell(new WorkerNodeReachability(m.Member.Address, Reachable: false)); });
        Receive<ClusterEvent.ReachableMember>(m => { if (m.Member.HasRole("worker")) jobHost.Tell(new WorkerNodeReachability(m.Member.Address, Reachable: true)); });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(IActorRef jobHost) => Akka.Actor.Props.Create(() => new ReachabilityWatcher(jobHost));

    protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
        typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
