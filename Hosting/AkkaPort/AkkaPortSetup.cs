// What a node's Akka port is given at start: its connection cap, its memory of inbound connections, where refusals are said.
using Akka.Actor.Setup;
using DistClip.Exchange;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// Handed to <see cref="CappedTcpTransport"/> through the actor system's setup (Akka creates the transport from its class
/// name): the cap on connections per peer address, the inbound connections admitted lately (which
/// <see cref="StrangerNotices"/> reads), and the notices that say a refused address once a minute.
/// </summary>
public sealed class AkkaPortSetup(InboundConnectionCap cap, RefusalNotices refusals) : Setup
{
    public InboundConnectionCap Cap { get; } = cap;
    public RefusalNotices Refusals { get; } = refusals;
    public InboundEndpoints Inbound { get; } = new();
}
