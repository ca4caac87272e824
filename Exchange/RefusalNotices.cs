// One line per refused peer and minute, not one per attempt: a peer that retries (or floods) cannot flood the log.
using System.Net;

namespace DistClip.Exchange;

/// <summary>
/// Says that a peer was refused at most once per <see cref="Interval"/> for each peer address and kind of refusal (one kind
/// does not hide another: a stranger's junk does not silence a certificate refused from the same host), adding how many
/// refusals of it went unsaid since. Thread-safe: TLS handshakes are checked on transport threads.
/// </summary>
public sealed class RefusalNotices(Action<string> say, TimeProvider? clock = null)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>Addresses remembered, at most: a flood from many addresses costs lines, not memory.</summary>
    private const int MaxPeers = 10_000;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<(string Address, string Kind), (DateTimeOffset Said, int Unsaid)> _byPeer = [];
    private string? _last;

    /// <summary>The last refusal's line since the last call (said or not), and forgets it; null when there was none.</summary>
    public string? TakeLast() => Interlocked.Exchange(ref _last, null);

    /// <summary>
    /// Records a refusal of <paramref name="address"/>; says <paramref name="line"/> unless a refusal of that address and
    /// <paramref name="kind"/> was said within the interval.
    /// </summary>
    public void Refused(string address, string line, string kind = "")
    {
        var now = _clock.GetUtcNow();
        _last = line;
        int unsaid;
        DateTimeOffset since;
        lock (_byPeer)
        {
            _byPeer.TryGetValue((address, kind), out var last);
            if (last.Said != default && now - last.Said < Interval)
            {
                _byPeer[(address, kind)] = last with { Unsaid = last.Unsaid + 1 };
                return;
            }
            if (_byPeer.Count >= MaxPeers) _byPeer.Clear();
            _byPeer[(address, kind)] = (now, 0);
            (unsaid, since) = (last.Unsaid, last.Said);
        }
        say(unsaid > 0 ? $"{line} ({unsaid} more refusals of {address} since {since:HH:mm:ss} UTC went unlogged)" : line);
    }

    /// <summary>
    /// The address of a peer named <c>a.b.c.d:port</c>, <c>[v6]:port</c>, <c>host:port</c> or by its address alone, as it is
    /// usually written: without the port (it changes with every attempt), and an IPv4 peer of a dual-stack socket
    /// (<c>[::ffff:a.b.c.d]</c>) as <c>a.b.c.d</c>, so that each peer is counted and said under one name.
    /// </summary>
    public static string AddressOf(string peer)
    {
        if (IPAddress.TryParse(peer.Trim('[', ']'), out var ip) || IPEndPoint.TryParse(peer, out var endpoint) && (ip = endpoint.Address) is not null)
            return (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
        return peer.LastIndexOf(':') is var colon and > 0 && peer[(colon + 1)..].All(char.IsAsciiDigit) ? peer[..colon] : peer;
    }

    /// <summary>Notices written to stderr, prefixed <c>distclip:</c>: what a node uses unless told otherwise.</summary>
    public static RefusalNotices ToStandardError() => new(line => Console.Error.WriteLine($"distclip: {line}"));
}
