// The inbound connections a node admitted lately, by the peer's address and port.
namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// The last <see cref="Capacity"/> inbound connections admitted to the Akka port, as <c>address:port</c> of the peer's
/// end. Akka names a connection's protocol actor after its remote end alone, whichever side opened it; this tells an
/// inbound connection's errors (a stranger's) from an outbound one's (a peer this node called). Kept past the close: Akka
/// logs a connection's failure after it has closed it. Thread-safe.
/// </summary>
public sealed class InboundEndpoints(int capacity = InboundEndpoints.DefaultCapacity)
{
    public const int DefaultCapacity = 4096;

    public int Capacity { get; } = capacity;

    private readonly HashSet<string> _known = [];
    private readonly Queue<string> _order = new();

    /// <summary>Remembers an admitted connection from <paramref name="address"/>:<paramref name="port"/>, forgetting the oldest past the capacity.</summary>
    public void Add(string address, int port)
    {
        var endpoint = $"{address}:{port}";
        lock (_known)
        {
            if (!_known.Add(endpoint)) return;
            _order.Enqueue(endpoint);
            if (_order.Count > Capacity) _known.Remove(_order.Dequeue());
        }
    }

    /// <summary>Whether a connection from <paramref name="address"/>:<paramref name="port"/> was admitted lately.</summary>
    public bool Contains(string address, int port)
    {
        lock (_known) return _known.Contains($"{address}:{port}");
    }
}
