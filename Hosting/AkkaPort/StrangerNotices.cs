// Akka.Remote's errors for inbound connections that are no Akka peer, said once a minute per address instead of each.
using System.Text.RegularExpressions;
using Akka.Event;
using DistClip.Exchange;
using DotNetty.Codecs;
using DotNetty.Handlers.Tls;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// A log filter for the Akka port. Akka.Remote logs an error, most with a stack trace, for every inbound connection that
/// is no Akka peer: one whose length field is negative or past the maximum frame size (a port scanner, an HTTP client), one
/// that speaks no TLS to a TLS port, one whose message does not decode, one that never finishes Akka's handshake (15 s). A
/// stranger that opens such connections without end would fill the log. Those errors are dropped, and the peer is said
/// through <see cref="RefusalNotices"/> with the reason, once a minute per address. Errors of outbound connections (told
/// from inbound ones by <see cref="InboundEndpoints"/>) and of other causes stay. Saying the peer from a filter is a side
/// effect, but Akka has no other hook into those errors.
/// </summary>
public sealed partial class StrangerNotices(RefusalNotices refusals, InboundEndpoints inbound) : LogFilterBase
{
    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null)
    {
        var (peer, why) = content.LogSource.Contains("TcpServerHandler", StringComparison.Ordinal) ? OfChannel(content, expandedMessage) : OfProtocol(content);
        if (why is null) return LogFilterDecision.NoDecision;
        refusals.Refused(peer, $"refused a connection to the Akka port from {peer}: {why}", kind: "stranger");
        return LogFilterDecision.Drop;
    }

    /// <summary>An inbound connection's transport error: its framing broken, or no TLS at a TLS port.</summary>
    private static (string Peer, string? Why) OfChannel(LogEvent content, string? expandedMessage)
    {
        string? why = content.Cause switch
        {
            TooLongFrameException or CorruptedFrameException => $"not Akka's framing ({content.Cause.Message})",
            NotSslRecordException or { InnerException: NotSslRecordException } => "not TLS",
            _ => null,
        };
        if (why is null) return ("", null);
        var remote = RemoteEndOfChannel().Match(expandedMessage ?? content.ToString());
        return (remote.Success ? RefusalNotices.AddressOf(remote.Groups["host"].Value) : "an unknown address", why);
    }

    /// <summary>An inbound connection's protocol error: a message that does not decode, or no handshake in time.</summary>
    private (string Peer, string? Why) OfProtocol(LogEvent content)
    {
        var remote = RemoteOfProtocolActor().Match(Uri.UnescapeDataString(content.LogSource));
        if (!remote.Success) return ("", null);
        var peer = RefusalNotices.AddressOf(remote.Groups["host"].Value);
        if (!inbound.Contains(peer, int.Parse(remote.Groups["port"].Value))) return ("", null);   // a peer this node called
        var message = content.Message?.ToString() ?? "";
        string? why = message.StartsWith("Error while decoding incoming Akka PDU", StringComparison.Ordinal) ? $"not Akka's protocol ({content.Cause?.InnerException?.Message ?? message})"
            : message.StartsWith("No response from remote for inbound association", StringComparison.Ordinal) ? "it did not finish Akka's handshake in time"
            : null;
        return (peer, why);
    }

    /// <summary>The remote end in Akka's "Error caught channel [local->remote](Id=…)": its host, without the port.</summary>
    [GeneratedRegex(@"->(?<host>\S+?):\d+\]\(Id=")]
    private static partial Regex RemoteEndOfChannel();

    /// <summary>The remote end in the path of Akka's protocol actor of a connection, unescaped: "…/akkaProtocol-tcp://system@host:port-n".</summary>
    [GeneratedRegex(@"/akkaProtocol-[a-z.]+://[^@/]+@(?<host>[^/]+?):(?<port>\d+)-\d+$")]
    private static partial Regex RemoteOfProtocolActor();
}
