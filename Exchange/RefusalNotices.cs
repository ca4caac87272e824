// One line per refused peer and minute, not one per attempt: a peer that retries (or floods) cannot flood the log.
namespace DistClip.Exchange;

/// <summary>
/// Says that a peer was refused at most once per <see cref="Interval"/> for each peer address, adding how many refusals of
/// it went unsaid since. Thread-safe: TLS handshakes are checked on transport threads.
/// </summary>
public sealed class RefusalNotices(Action<string> say, TimeProvider? clock = null)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>Addresses remembered, at most: a flood from many addresses costs lines, not memory.</summary>
    private const int MaxPeers = 10_000;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<string, (DateTimeOffset Said, int Unsaid)> _byPeer = [];
    private string? _last;

    /// <summary>The last refusal's line since the last call (said or not), and forgets it; null when there was none.</summary>
    public string? TakeLast() => Interlocked.Exchange(ref _last, null);

    /// <summary>Records a refusal of <paramref name="address"/>; says <paramref name="line"/> unless that address was mentioned within the interval.</summary>
    public void Refused(string address, string line)
    {
        var now = _clock.GetUtcNow();
        _last = line;
        int unsaid;
        DateTimeOffset since;
        lock (_byPeer)
        {
            _byPeer.TryGetValue(address, out var last);
            if (last.Said != default && now - last.Said < Interval)
            {
                _byPeer[address] = last with { Unsaid = last.Unsaid + 1 };
                return;
            }
            if (_byPeer.Count >= MaxPeers) _byPeer.Clear();
            _byPeer[address] = (now, 0);
            (unsaid, since) = (last.Unsaid, last.Said);
        }
        say(unsaid > 0 ? $"{line} ({unsaid} more refusals of {address} since {since:HH:mm:ss} UTC went unlogged)" : line);
    }

    /// <summary>The address of a peer named <c>host:port</c> or <c>[v6]:port</c> (its port changes with every attempt).</summary>
    public static string AddressOf(string peer) => peer.LastIndexOf(':') is var colon and > 0 && peer[(colon + 1)..].All(char.IsAsciiDigit) ? peer[..colon] : peer;
}
