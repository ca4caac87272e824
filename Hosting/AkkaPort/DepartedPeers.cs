// The cluster members that left gracefully: a node's later failures to reach them are the normal end of a run, not news.
using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// Addresses (host:port) of members this node saw leave the cluster on their own (Leaving, Exiting, or removed after
/// Exiting), this node's own shutdown once it leaves, and whether it has joined yet (until then its seed nodes may not be
/// up: a worker started before its coordinator waits for it, bounded by <c>--coordinator-timeout</c>, which says so). A
/// member that crashes or is cut off never leaves: it is not here, and its errors are still logged (<see cref="QuietDepartures"/>).
/// </summary>
public sealed class DepartedPeers
{
    private readonly ConcurrentDictionary<string, byte> _left = new();

    private volatile bool _selfLeaving, _joined;   // written by the watcher and shutdown, read on the logger's thread

    /// <summary>Whether this node itself is leaving (then every disassociation is part of its own end).</summary>
    public bool SelfLeaving => _selfLeaving;

    /// <summary>Whether this node is a member yet (Up); before, a seed node that does not answer is what joining waits for.</summary>
    public bool Joined => _joined;

    public void Left(Address member) => _left.TryAdd(Key(member.Host ?? "", member.Port ?? 0), 0);

    public void SelfLeft() => _selfLeaving = true;

    /// <summary>A member at <paramref name="member"/> joined: should it fail later, that is news again (an address that left may come back).</summary>
    public void Joining(Address member) => _left.TryRemove(Key(member.Host ?? "", member.Port ?? 0), out _);

    public bool HasLeft(string host, int port) => _left.ContainsKey(Key(host, port));

    private static string Key(string host, int port) => $"{host}:{port}";

    /// <summary>Follows the cluster's membership on <paramref name="system"/>, recording members as they leave.</summary>
    public void Follow(ActorSystem system)
    {
        var departed = this;
        system.ActorOf(Props.Create(() => new Watcher(departed)), "departure-watcher");
        system.RegisterOnTermination(SelfLeft);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "quiet-departures", () =>
        {
            SelfLeft();
            return Task.FromResult(Akka.Done.Instance);
        });
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(DepartedPeers departed)
        {
            var self = Cluster.Get(Context.System).SelfAddress;
            void Departed(Member m)
            {
                if (m.Address.Equals(self)) departed.SelfLeft();
                else departed.Left(m.Address);
            }
            Receive<ClusterEvent.MemberUp>(m =>
            {
                if (m.Member.Address.Equals(self)) departed._joined = true;
                else departed.Joining(m.Member.Address);
            });
            Receive<ClusterEvent.MemberJoined>(m => departed.Joining(m.Member.Address));
            Receive<ClusterEvent.MemberLeft>(m => Departed(m.Member));
            Receive<ClusterEvent.MemberExited>(m => Departed(m.Member));
            Receive<ClusterEvent.MemberRemoved>(m => { if (m.PreviousStatus == MemberStatus.Exiting) Departed(m.Member); });
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberJoined), typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberLeft), typeof(ClusterEvent.MemberExited), typeof(ClusterEvent.MemberRemoved));

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
