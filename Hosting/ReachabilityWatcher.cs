// Tells the coordinator which worker nodes the cluster's failure detector has given up on, and which came back.
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using DistClip.Coordinator;

namespace DistClip.Hosting;

/// <summary>
/// On a coordinator node: forwards what is known of worker nodes' reachability to the job host as
/// <see cref="WorkerNodeReachability"/>, so that a dead worker process costs the run seconds, not the split-brain
/// resolver's stable-after: the remote connection to the node ending (at once when its process dies: the kernel
/// resets the connection) or coming back, and the failure detector's verdicts (for silent losses: a cut link).
/// </summary>
public sealed class ReachabilityWatcher : ReceiveActor
{
    private readonly HashSet<Address> _workerNodes = [];

    public ReachabilityWatcher(IActorRef jobHost)
    {
        void Tell(Address node, bool reachable)
        {
            if (_workerNodes.Contains(node)) jobHost.Tell(new WorkerNodeReachability(node, reachable));
        }
        Receive<ClusterEvent.MemberUp>(m => { if (m.Member.HasRole("worker")) _workerNodes.Add(m.Member.Address); });
        Receive<ClusterEvent.MemberRemoved>(m => _workerNodes.Remove(m.Member.Address));
        Receive<ClusterEvent.UnreachableMember>(m => Tell(m.Member.Address, reachable: false));
        Receive<ClusterEvent.ReachableMember>(m => Tell(m.Member.Address, reachable: true));
        Receive<DisassociatedEvent>(e => Tell(e.RemoteAddress, reachable: false));
        Receive<AssociatedEvent>(e => Tell(e.RemoteAddress, reachable: true));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(IActorRef jobHost) => Akka.Actor.Props.Create(() => new ReachabilityWatcher(jobHost));

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember));
        Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));
        Context.System.EventStream.Subscribe(Self, typeof(AssociatedEvent));
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }
}
