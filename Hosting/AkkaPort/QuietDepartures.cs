// A normal end of a run is quiet: Akka's warnings about peers that already left the cluster on their own are dropped.
using System.Text.RegularExpressions;
using Akka.Event;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// A log filter. When a run ends, nodes leave the cluster one after another, and Akka.Remote on the one still up warns
/// that it could not associate with the one gone ("AssociationError …", "Tried to associate with unreachable remote
/// address …", and an error "Disassociated") — which a user reads as a failure. Those lines are dropped when the peer
/// they name left the cluster gracefully, when this node is leaving itself, or before it has joined (a worker started
/// before its coordinator warned every two seconds that it could not join the seed nodes; it now says once what it waits
/// for, and --coordinator-timeout bounds the wait) (<see cref="DepartedPeers"/>). A peer that crashed or was cut off
/// never left, and its warnings stay.
/// </summary>
public sealed partial class QuietDepartures(DepartedPeers departed) : LogFilterBase
{
    public override LogFilterType FilterType => LogFilterType.Content;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null)
    {
        if (content.LogLevel() is LogLevel.DebugLevel) return LogFilterDecision.NoDecision;
        var message = content.Message?.ToString() ?? "";   // the message alone: the expanded one starts with the log source, this node's address
        if (!departed.Joined && message.StartsWith("Couldn't join seed nodes after", StringComparison.Ordinal)) return LogFilterDecision.Drop;
        if (departed.SelfLeaving && message.StartsWith("Unable to REMOVE channel", StringComparison.Ordinal)) return LogFilterDecision.Drop;   // DotNetty, as the node closes its port
        if (!IsDisassociation(message)) return LogFilterDecision.NoDecision;
        if (departed.SelfLeaving || !departed.Joined) return LogFilterDecision.Drop;
        return PeerOf(message, content.LogSource) is var (host, port) && departed.HasLeft(host, port) ? LogFilterDecision.Drop : LogFilterDecision.NoDecision;
    }

    private static bool IsDisassociation(string message) =>
        message.StartsWith("AssociationError", StringComparison.Ordinal)
        || message.StartsWith("Tried to associate with unreachable remote address", StringComparison.Ordinal)
        || message.StartsWith("Association with remote system", StringComparison.Ordinal)
        || message == "Disassociated";

    /// <summary>
    /// The peer a disassociation names: after "-&gt;" in an AssociationError, in brackets after "remote address" or
    /// "remote system", else in the log source (the endpoint writer's path carries the remote address, escaped).
    /// </summary>
    private static (string Host, int Port)? PeerOf(string message, string source)
    {
        var named = NamedPeer().Match(message);
        if (!named.Success) named = EndpointOfSource().Match(Uri.UnescapeDataString(source));
        return named.Success ? (named.Groups["host"].Value, int.Parse(named.Groups["port"].Value)) : null;
    }

    [GeneratedRegex(@"(?:->\s*|remote (?:address|system) \[)akka(?:\.ssl)?\.tcp://[^@\s]+@(?<host>[^:\s\]/]+):(?<port>\d+)")]
    private static partial Regex NamedPeer();

    [GeneratedRegex(@"reliableEndpointWriter-akka(?:\.ssl)?\.tcp://[^@/]+@(?<host>[^:/]+):(?<port>\d+)-")]
    private static partial Regex EndpointOfSource();
}
