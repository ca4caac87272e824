// How many connections each peer address holds open to a node's Akka port: counted, and capped.
namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// The connections open to one node's Akka port, counted per peer address; one past <see cref="PerAddress"/> is refused.
/// A legitimate peer holds one connection per actor system (one per DistClip process on its host), so the cap only bites a
/// peer that opens connections it does not use. Thread-safe: connections open and close on transport threads.
/// </summary>
public sealed class InboundConnectionCap
{
    /// <summary>The default cap: 32 DistClip processes on one host before the 33rd is refused.</summary>
    public const int DefaultPerAddress = 32;

    /// <summary>Connections from one address, at most.</summary>
    public int PerAddress { get; }

    private readonly Dictionary<string, int> _open = [];

    public InboundConnectionCap(int perAddress = DefaultPerAddress) =>
        PerAddress = perAddress > 0 ? perAddress : throw new ArgumentOutOfRangeException(nameof(perAddress), perAddress, "The cap must be at least 1.");

    /// <summary>Counts a new connection from <paramref name="address"/>, or refuses it (false) when that address holds the cap.</summary>
    public bool TryOpen(string address)
    {
        lock (_open)
        {
            _open.TryGetValue(address, out int open);
            if (open >= PerAddress) return false;
            _open[address] = open + 1;
            return true;
        }
    }

    /// <summary>Forgets one connection of <paramref name="address"/> that <see cref="TryOpen"/> counted; false if none was open.</summary>
    /// <remarks>Called on transport threads, where an exception would lose the connection's close: a miscount is returned.</remarks>
    public bool Close(string address)
    {
        lock (_open)
        {
            if (!_open.TryGetValue(address, out int open)) return false;
            if (open == 1) _open.Remove(address);
            else _open[address] = open - 1;
            return true;
        }
    }

    /// <summary>Connections open from <paramref name="address"/> now.</summary>
    public int OpenFrom(string address)
    {
        lock (_open) return _open.GetValueOrDefault(address);
    }
}
