// Akka.Remote's errors for inbound connections that are no Akka peer, said once a minute per address instead of each.
using System.Text.RegularExpressions;
using Akka.Event;
using DistClip.Exchange;
using DotNetty.Codecs;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// A log filter for the Akka port. Akka.Remote logs an error, most with a stack trace, for every inbound connection that
/// is no Akka peer: one whose length field is negative or past the maximum frame size (a port scanner, an HTTP client), one
/// whose first message is not Akka's, one that never finishes Akka's handshake (15 s). A stranger that opens such
/// connections without end would fill the log. Those errors are dropped, and the peer is said through
/// <see cref="RefusalNotices"/> with the reason, once a minute per address. Errors of outbound connections and of other
/// causes stay. Saying the peer from a filter is a side effect, but Akka has no other hook into those errors.
/// </summary>
public sealed partial class StrangerNotices(RefusalNotices refusals) : LogFilterBase
{
    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null)
    {
        if (Reason(content) is not { } why) return LogFilterDecision.NoDecision;
        var remote = content.Cause is DecoderException
            ? RemoteEndOfChannel().Match(expandedMessage ?? content.ToString())
            : RemoteOfProtocolActor().Match(Uri.UnescapeDataString(content.LogSource));
        var peer = remote.Success ? RefusalNotices.AddressOf(remote.Groups["host"].Value) : "an unknown address";
        refusals.Refused(peer, $"refused a connection to the Akka port from {peer}: {why}");
        return LogFilterDecision.Drop;
    }

    /// <summary>Why the connection was no Akka peer's, if the event is one of those errors.</summary>
    private static string? Reason(LogEvent content) => content switch
    {
        { Cause: TooLongFrameException or CorruptedFrameException } when content.LogSource.Contains("TcpServerHandler", StringComparison.Ordinal)
            => $"not Akka's framing ({content.Cause.Message})",
        _ when !content.LogSource.Contains("/akkaProtocol-", StringComparison.Ordinal) => null,
        _ when content.Message?.ToString() is { } message && message.StartsWith("Error while decoding incoming Akka PDU", StringComparison.Ordinal)
            => "not Akka's protocol (its first message did not decode)",
        _ when content.Message?.ToString() is { } message && message.StartsWith("No response from remote for inbound association", StringComparison.Ordinal)
            => "it did not finish Akka's handshake in time",
        _ => null,
    };

    /// <summary>The remote end in Akka's "Error caught channel [local->remote](Id=…)": its host, without the port.</summary>
    [GeneratedRegex(@"->(?<host>\S+?):\d+\]\(Id=")]
    private static partial Regex RemoteEndOfChannel();

    /// <summary>The remote end in the path of Akka's protocol actor of a connection, unescaped: "…/akkaProtocol-tcp://system@host:port-n".</summary>
    [GeneratedRegex(@"/akkaProtocol-[a-z.]+://[^@/]+@(?<host>[^/]+?):\d+-\d+$")]
    private static partial Regex RemoteOfProtocolActor();
}
