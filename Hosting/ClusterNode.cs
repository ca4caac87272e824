// Starts a DistClip cluster node (coordinator or worker role) and stops it gracefully.
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using DistClip.Exchange;
using DistClip.Exchange.Tls;
using DistClip.Hosting.AkkaPort;
using DistClip.Protocol;

namespace DistClip.Hosting;

/// <summary>The actor system of one node of the training cluster, and the singleton plumbing around the coordinator.</summary>
public static class ClusterNode
{
    /// <summary>Path of the coordinator singleton's manager on coordinator nodes.</summary>
    public const string CoordinatorName = "coordinator";

    /// <exception cref="ArgumentException">The hostname does not resolve to an address of this machine, or a port is taken.</exception>
    /// <param name="actors">Actors on this node with a bulk channel of their own (a worker node's workers).</param>
    /// <param name="refusals">Where peers refused at the Akka port are said (default: stderr, once a minute per address).</param>
    /// <param name="cap">The connections each peer address may hold open to the Akka port (default: <see cref="InboundConnectionCap.DefaultPerAddress"/>).</param>
    public static ActorSystem Start(NodeSettings node, int actors = 1, RefusalNotices? refusals = null, InboundConnectionCap? cap = null)
    {
        BindCheck.Check(node, actors);
        var config = ConfigurationFactory.ParseString(node.Hocon()).WithFallback(ConfigurationFactory.ParseString(AkkaDefaults.Hocon));
        refusals ??= RefusalNotices.ToStandardError();
        var port = new AkkaPortSetup(cap ?? new InboundConnectionCap(), refusals);
        var departed = new DepartedPeers();
        var setup = BootstrapSetup.Create().WithConfig(config).And(QuietTransportErrors(port, departed)).And(port);
        if (node.Tls is { } tls) setup = setup.And(TlsSetup(tls, refusals));
        var system = ActorSystem.Create(NodeSettings.SystemName, setup);
        departed.Follow(system);
        if (node.SeedNodes.Count == 0)  // the first node starts the cluster by joining itself
            Cluster.Get(system).Join(Cluster.Get(system).SelfAddress);
        return system;
    }

    /// <summary>
    /// Akka.Remote's TLS: this node's certificate on both ends of every connection (mutual), a peer's checked against the
    /// cluster CA alone (<see cref="ClusterTls.Accepts"/>), host names not checked. A refused peer is said with why, once a
    /// minute per address (<paramref name="notices"/>).
    /// </summary>
    private static DotNettySslSetup TlsSetup(ClusterTls tls, RefusalNotices notices) =>
        new(tls.Certificate, suppressValidation: false, requireMutualAuthentication: true, validateCertificateHostname: false,
            (certificate, _, peer, _, _) =>
            {
                if (tls.Accepts(certificate, out var why)) return true;
                notices.Refused(RefusalNotices.AddressOf(peer ?? "unknown"), $"refused a TLS connection with {peer}: not of this cluster ({why})", kind: "certificate");
                return false;
            });

    /// <summary>
    /// Akka.Remote logs every failed TLS handshake as a multi-line error with a stack trace, and again as a warning, and every
    /// inbound connection that is no Akka peer as another: a peer without the cluster's certificate that retries, or a
    /// stranger that floods the port, would fill the log. <see cref="TlsSetup"/> and <see cref="StrangerNotices"/> say each
    /// refused address once a minute instead.
    /// </summary>
    /// <remarks>A normal end is quiet too: <see cref="QuietDepartures"/> drops the warnings about peers that left on their own.</remarks>
    private static LogFilterSetup QuietTransportErrors(AkkaPortSetup port, DepartedPeers departed) => new LogFilterBuilder()
        .ExcludeMessageContaining("TLS handshake failed")
        .ExcludeMessageContaining("due to TLS handshake failure")
        .Add(new StrangerNotices(port.Refusals, port.Inbound))
        .Add(new QuietDepartures(departed))
        .Build();

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
