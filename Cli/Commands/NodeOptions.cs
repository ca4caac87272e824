// The network options of a cluster node: bind and public address, port, seed nodes.
using System.CommandLine;
using DistClip.Hosting;

namespace DistClip.Cli.Commands;

/// <summary>Options shared by <c>coordinator</c> and <c>worker</c>; each falls back to its DISTCLIP_* variable.</summary>
public sealed class NodeOptions
{
    private readonly Option<string?> _hostname = new("--hostname") { Description = "Address to bind (env DISTCLIP_HOSTNAME; default 127.0.0.1)." };
    private readonly Option<string?> _publicHostname = new("--public-hostname") { Description = "Address peers reach this node at (env DISTCLIP_PUBLIC_HOSTNAME)." };
    private readonly Option<int?> _port = new("--port") { Description = "Port (env DISTCLIP_PORT; default 4053 for a coordinator, any free port for a worker)." };
    private readonly Option<int?> _bulkPort = new("--bulk-port") { Description = "First port of the bulk data plane, one per actor (env DISTCLIP_BULK_PORT; default any free port)." };
    private readonly Option<string?> _sharedMemory = new("--shared-memory") { Description = "on: exchange with peers on this host through /dev/shm; off: always through the bulk channel (env DISTCLIP_SHARED_MEMORY; default on)." };
    private readonly Option<string?> _secretFile = new("--secret-file") { Description = "A file holding the cluster's join secret (16 bytes or more), the same on every node: workers prove they know it before they learn anything of the run (env DISTCLIP_SECRET_FILE; default none: any worker that reaches the coordinator may join)." };
    private readonly Option<string?> _tls = new("--tls") { Description = "A directory with this node's certificates from `distclip certs` (ca.crt, node.crt, node.key): every connection, Akka's and the bulk channel's, is authenticated by mutual TLS and encrypted, and only nodes with a certificate of the same CA get in (env DISTCLIP_TLS_DIR; default none: plain TCP)." };
    private readonly Option<string?> _seedNodes = new("--seed-nodes") { Description = "Comma-separated seed node addresses, akka.tcp://distclip@host:port (env DISTCLIP_SEED_NODES)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _hostname, _publicHostname, _port, _seedNodes, _bulkPort, _sharedMemory, _secretFile, _tls }) command.Options.Add(option);
    }

    public NodeSettings Read(ParseResult p, string role) =>
        NodeSettings.Resolve(role, p.GetValue(_hostname), p.GetValue(_publicHostname), p.GetValue(_port), p.GetValue(_seedNodes), bulkPort: p.GetValue(_bulkPort), sharedMemory: p.GetValue(_sharedMemory),
            secretFile: p.GetValue(_secretFile), tlsDirectory: p.GetValue(_tls));
}
