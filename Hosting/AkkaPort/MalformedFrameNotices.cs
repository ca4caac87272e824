// Akka.Remote's error for each connection that breaks its framing, said once a minute per address instead.
using System.Text.RegularExpressions;
using Akka.Event;
using DistClip.Exchange;
using DotNetty.Codecs;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// A log filter for the Akka port: Akka.Remote logs every connection whose bytes are not its framing (a length field that
/// is negative or past the maximum frame size: a port scanner, an HTTP client, a flood) as an error with a stack trace, one
/// per connection, so a peer that opens such connections without end would fill the log. Those errors are dropped, and the
/// peer is said through <see cref="RefusalNotices"/> with the decoder's reason: once a minute per address. Other errors stay.
/// </summary>
public sealed partial class MalformedFrameNotices(RefusalNotices refusals) : LogFilterBase
{
    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null)
    {
        if (content.Cause is not DecoderException broken) return LogFilterDecision.NoDecision;
        var peer = Channel().Match(expandedMessage ?? content.ToString()) is { Success: true } named ? PeerAddress.Of(named.Groups["host"].Value) : "an unknown address";
        refusals.Refused(peer, $"refused a connection to the Akka port from {peer}: not Akka's framing ({broken.Message})");
        return LogFilterDecision.Drop;
    }

    /// <summary>The remote end in Akka's "Error caught channel [local->remote](Id=…)": its host, without the port.</summary>
    [GeneratedRegex(@"->(?<host>\S+?):\d+\]\(Id=")]
    private static partial Regex Channel();
}
