// Starts a DistClip cluster node (coordinator or worker role) and stops it gracefully.
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using DistClip.Protocol;

namespace DistClip.Hosting;

/// <summary>The actor system of one node of the training cluster, and the singleton plumbing around the coordinator.</summary>
public static class ClusterNode
{
    /// <summary>Path of the coordinator singleton's manager on coordinator nodes.</summary>
    public const string CoordinatorName = "coordinator";

    /// <exception cref="ArgumentException">The hostname does not resolve to an address of this machine, or a port is taken.</exception>
    /// <param name="actors">Actors on this node with a bulk channel of their own (a worker node's workers).</param>
    public static ActorSystem Start(NodeSettings node, int actors = 1)
    {
        BindCheck.Check(node, actors);
        var config = ConfigurationFactory.ParseString(node.Hocon()).WithFallback(ConfigurationFactory.ParseString(AkkaDefaults.Hocon));
        var system = ActorSystem.Create(NodeSettings.SystemName, config);
        if (node.SeedNodes.Count == 0)  // the first node starts the cluster by joining itself
            Cluster.Get(system).Join(Cluster.Get(system).SelfAddress);
        return system;
    }

    /// <summary>Runs <paramref name="coordinator"/> as the cluster singleton of the coordinator role.</summary>
    public static IActorRef StartCoordinatorSingleton(ActorSystem system, Props coordinator) =>
        system.ActorOf(ClusterSingletonManager.Props(coordinator, PoisonPill.Instance,
            ClusterSingletonManagerSettings.Create(system).WithRole("coordinator")), CoordinatorName);

    /// <summary>A local proxy that forwards to the coordinator singleton wherever it runs.</summary>
    public static IActorRef CoordinatorProxy(ActorSystem system) =>
        system.ActorOf(ClusterSingletonProxy.Props($"/user/{CoordinatorName}",
            ClusterSingletonProxySettings.Create(system).WithRole("coordinator")), "coordinator-proxy");

    /// <summary>Leaves the cluster and stops the actor system.</summary>
    public static Task LeaveAsync(ActorSystem system) =>
        CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
}
