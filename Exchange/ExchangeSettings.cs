// Where an actor's end of the exchange listens (bulk channel, shared segments), and the message that carries bulk arrivals to it.
using System.Net;
using System.Net.Sockets;
using DistClip.Exchange.Bulk;
using DistClip.Exchange.Tls;

namespace DistClip.Exchange;

/// <summary>
/// Bind address, advertised address and port of a bulk channel (port 0: any free port), and where
/// shared segments for peers on the same host are made (<see cref="SharedMemory.SharedSegment"/>;
/// null: never, every transfer goes through the channel), and the cluster's certificates when the channel is mutual TLS
/// (<see cref="ClusterTls"/>; shared memory never leaves the host and stays as it is), and where the links count the bytes
/// they move (<see cref="LinkTraffic"/>; null: nowhere).
/// </summary>
public sealed record ExchangeSettings(string BindHost, string PublicHost, int Port, string? SharedMemoryDirectory = SharedMemory.SharedSegment.DefaultDirectory,
    ClusterTls? Tls = null, LinkTraffic? Traffic = null)
{
    /// <summary>Whether this end offers or accepts shared memory with a peer on its host.</summary>
    public bool SharedMemory => SharedMemoryDirectory is not null && Directory.Exists(SharedMemoryDirectory);

    /// <summary>Opens the channel; <paramref name="deliver"/> runs on a background thread.</summary>
    /// <param name="acceptsToken">Whether a frame's token is accepted (asked from the channel's threads): a frame under another is
    /// refused from its header, before its values are read; null accepts any (benchmarks).</param>
    public BulkChannel Open(int maxElements, Action<BulkMessage> deliver, Action<string> warn, Func<long, bool>? acceptsToken = null)
    {
        var bind = IPAddress.TryParse(BindHost, out var ip) ? ip
            : Dns.GetHostAddresses(BindHost).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
              ?? throw new ArgumentException($"Bind address '{BindHost}' does not resolve to an IPv4 address.");
        return new BulkChannel(bind.ToString(), PublicHost, Port, maxElements, deliver, warn, acceptsToken, Tls);
    }
}

