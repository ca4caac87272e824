// Where a cluster node listens, which seed nodes it joins and what proves it is of the cluster: flags first, then DISTCLIP_* variables.
using DistClip.Exchange.Tls;

namespace DistClip.Hosting;

/// <summary>
/// Network settings of one cluster node. Every value can come from a flag or, when the flag is absent,
/// from an environment variable, so containers and Kubernetes pods need no files:
/// <c>DISTCLIP_HOSTNAME</c> (bind address), <c>DISTCLIP_PUBLIC_HOSTNAME</c> (address peers use),
/// <c>DISTCLIP_PORT</c>, <c>DISTCLIP_SEED_NODES</c> (comma-separated <c>akka.tcp://distclip@host:port</c>),
/// <c>DISTCLIP_BULK_PORT</c> (first port of the bulk data plane; 0 = any free port),
/// <c>DISTCLIP_SHARED_MEMORY</c> (<c>on</c>, the default: peers on the same host exchange through
/// /dev/shm; <c>off</c>: always through the bulk channel), <c>DISTCLIP_SECRET_FILE</c> (the cluster's join secret),
/// <c>DISTCLIP_TLS_DIR</c> (this node's certificates: every connection authenticated by mutual TLS and encrypted).
/// </summary>
public sealed record NodeSettings(string Role, string Hostname, string? PublicHostname, int Port, IReadOnlyList<string> SeedNodes, int BulkPort = 0,
    bool SharedMemory = true, Protocol.JoinSecret? Secret = null, ClusterTls? Tls = null, string LogLevel = LogLevels.Default)
{
    /// <summary>The bulk channel of this node's actor number <paramref name="index"/> (ports BulkPort, BulkPort+1, …).</summary>
    /// <param name="traffic">Where its links count the bytes they move (the metrics endpoint's); null: nowhere.</param>
    public Exchange.ExchangeSettings Bulk(int index, Exchange.LinkTraffic? traffic = null) => new(Hostname, PublicHostname ?? Hostname, BulkPort == 0 ? 0 : BulkPort + index,
        SharedMemory ? Exchange.SharedMemory.SharedSegment.DefaultDirectory : null, Tls, traffic);

    /// <summary>Name of the actor system on every node; part of every node address.</summary>
    public const string SystemName = "distclip";

    // Akka.Remote names the addresses of TLS nodes akka.ssl.tcp.
    private const string PlainScheme = "akka.tcp", TlsScheme = "akka.ssl.tcp";

    public static NodeSettings Resolve(string role, string? hostname, string? publicHostname, int? port, string? seedNodes, Func<string, string?>? environment = null,
        int? bulkPort = null, string? sharedMemory = null, string? secretFile = null, string? tlsDirectory = null)
    {
        var env = environment is null ? EnvironmentValues.Process : new EnvironmentValues(environment);
        hostname ??= env.Text(EnvironmentNames.Hostname, "127.0.0.1")!;
        publicHostname ??= env.Text(EnvironmentNames.PublicHostname);
        if (IsWildcard(hostname) && publicHostname is null)
            throw new ArgumentException($"--hostname '{hostname}' (or {EnvironmentNames.Hostname}) listens on every interface, which is no address peers can reach: " +
                $"give the one they reach this node at with --public-hostname (or {EnvironmentNames.PublicHostname}), e.g. the pod's IP or the container's DNS name.");
        port ??= env.IntOrNull(EnvironmentNames.Port);
        int resolvedPort = port ?? (role == "coordinator" ? 4053 : 0);
        if (resolvedPort is < 0 or > 65535) throw new ArgumentException($"--port must be in [0, 65535] (got {resolvedPort}).");
        var tlsFrom = tlsDirectory is null ? EnvironmentNames.TlsDirectory : "--tls";
        tlsDirectory ??= env.Text(EnvironmentNames.TlsDirectory);
        var seeds = (seedNodes ?? env.Text(EnvironmentNames.SeedNodes) ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(seed => SeedAddress(seed, tls: tlsDirectory is not null)).ToList();
        bulkPort ??= env.IntOrNull(EnvironmentNames.BulkPort);
        if (bulkPort is < 0 or > 65535) throw new ArgumentException($"--bulk-port must be in [0, 65535] (got {bulkPort}).");
        var shared = sharedMemory ?? env.Text(EnvironmentNames.SharedMemory, "on");
        if (shared is not ("on" or "off"))
            throw new ArgumentException($"--shared-memory (or {EnvironmentNames.SharedMemory}) must be on or off (got '{shared}').");
        var secret = (secretFile ?? env.Text(EnvironmentNames.SecretFile)) is { } file
            ? Protocol.JoinSecret.Read(file, secretFile is null ? EnvironmentNames.SecretFile : "--secret-file") : null;
        var tls = tlsDirectory is null ? null : ClusterTls.Load(tlsDirectory, tlsFrom);
        return new NodeSettings(role, hostname, publicHostname, resolvedPort, seeds, bulkPort ?? 0, shared == "on", secret, tls);
    }

    /// <summary>Whether <paramref name="hostname"/> is an address of every interface (0.0.0.0, ::): a bind address, never one to advertise.</summary>
    public static bool IsWildcard(string hostname) =>
        System.Net.IPAddress.TryParse(hostname, out var ip) && (ip.Equals(System.Net.IPAddress.Any) || ip.Equals(System.Net.IPAddress.IPv6Any));

    /// <summary>
    /// A seed node's address in the scheme this node speaks: <c>akka.tcp://distclip@host:port</c> is accepted either way and
    /// becomes <c>akka.ssl.tcp://…</c> with TLS, so that a deployment turns TLS on without rewriting its seed list.
    /// </summary>
    private static string SeedAddress(string seed, bool tls)
    {
        string Example(string scheme) => $"{scheme}://{SystemName}@host:4053";
        bool plain = seed.StartsWith($"{PlainScheme}://{SystemName}@", StringComparison.Ordinal);
        bool secure = seed.StartsWith($"{TlsScheme}://{SystemName}@", StringComparison.Ordinal);
        if (!(plain || secure) || !Uri.TryCreate(seed, UriKind.Absolute, out _))
            throw new ArgumentException($"Seed node '{seed}' is not an address like {Example(PlainScheme)}.");
        if (secure && !tls)
            throw new ArgumentException($"Seed node '{seed}' is a TLS address, but this node has no certificates: give it --tls DIR (or {EnvironmentNames.TlsDirectory}), or seed with {Example(PlainScheme)}.");
        return plain && tls ? TlsScheme + seed[PlainScheme.Length..] : seed;
    }

    /// <summary>The HOCON of this node, layered over <see cref="Protocol.AkkaDefaults.Hocon"/>.</summary>
    public string Hocon() => LogLevels.Hocon(LogLevel) + "\n" + $$"""
        akka {
          actor.provider = cluster
          remote.retry-gate-closed-for = 1s  # an address that refused a connection (not up yet) is tried again soon
          remote.dot-netty.tcp {
            hostname = "{{Hostname}}"
            {{(PublicHostname is null ? "" : $"public-hostname = \"{PublicHostname}\"")}}
            port = {{Port}}
            # Akka.Remote's TCP transport with the connections per peer address capped (AkkaPort/CappedTcpTransport.cs).
            transport-class = "{{typeof(AkkaPort.CappedTcpTransport).AssemblyQualifiedName}}"
            # With TLS the certificates come from ClusterNode's DotNettySslSetup: mutual, checked against the cluster CA.
            enable-ssl = {{(Tls is null ? "off" : "on")}}
          }
          cluster {
            roles = ["{{Role}}"]
            seed-nodes = [{{string.Join(", ", SeedNodes.Select(s => $"\"{s}\""))}}]
            # Workers are often started together with their coordinator: a join that reaches it before it
            # listens is retried after 2 s (Akka's defaults wait 5 s per attempt and 10 s between rounds).
            seed-node-timeout = 2s
            retry-unsuccessful-join-after = 2s
            # Akka.Cluster.Tools 1.5.73 logs "failed to find ... after 30 seconds" within a second of every
            # start and membership change, while the proxy finds the coordinator: misleading noise.
            singleton-proxy.log-singleton-identification-failure = false
            # The coordinator holds the run's only state: the side of a partition with the coordinator survives, even
            # alone (down-if-alone off). Workers cut off from it, or whose coordinator died, down themselves and join
            # again as new members once they reach a coordinator (ClusterTrainer.RunWorkersAsync). The coordinator
            # does not wait for this to re-plan a lost worker's shards: unreachability is enough (WorkerNodeReachability).
            downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            # A dead worker process is seen unreachable ~2 s after its last heartbeat (Akka's default waits 3 s). A
            # false alarm costs little: its shards are computed by others to the same bits, and it joins again.
            failure-detector.acceptable-heartbeat-pause = 2s
            split-brain-resolver {
              active-strategy = keep-oldest
              keep-oldest { down-if-alone = off, role = "coordinator" }
              stable-after = 7s
              # Never down everyone (the coordinator among them) because reachability kept changing: a dead worker's
              # node is seen unreachable by each member in turn, which Akka's default counts as instability.
              down-all-when-unstable = off
            }
          }
          coordinated-shutdown.exit-clr = off
        }
        """;
}
