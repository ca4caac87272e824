// Where an actor's bulk channel listens, and the message that carries its arrivals to the actor.
using System.Net;
using System.Net.Sockets;

namespace DistClip.Protocol.Bulk;

/// <summary>Bind address, advertised address and port of a bulk channel (port 0: any free port).</summary>
public sealed record BulkSettings(string BindHost, string PublicHost, int Port)
{
    /// <summary>Opens the channel; <paramref name="deliver"/> runs on a background thread.</summary>
    public BulkChannel Open(int maxElements, Action<BulkMessage> deliver, Action<string> warn)
    {
        var bind = IPAddress.TryParse(BindHost, out var ip) ? ip
            : Dns.GetHostAddresses(BindHost).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
              ?? throw new ArgumentException($"Bind address '{BindHost}' does not resolve to an IPv4 address.");
        return new BulkChannel(bind.ToString(), PublicHost, Port, maxElements, deliver, warn);
    }
}

/// <summary>A frame that arrived on the actor's bulk channel, told to the actor (local only, never serialized).</summary>
public sealed record BulkArrival(BulkMessage Message);
