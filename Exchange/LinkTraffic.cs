// What the links of one node moved: payload bytes sent and received per worker and kind of link, for the metrics endpoint.
using System.Collections.Concurrent;

namespace DistClip.Exchange;

/// <summary>
/// Counts the payload of every whole gradient and parameter transfer a link sends or receives — the model's exchange
/// vector, 4 bytes a float; no frame, chunk or record headers, and nothing for a transfer dropped half-way — per worker
/// and the kind of link that carried it (a bulk send that fell back counts as chunks). Thread-safe: links count from
/// their actor's thread and from parallel broadcasts, the metrics endpoint reads from its own.
/// </summary>
public sealed class LinkTraffic
{
    private sealed class Totals
    {
        public long Sent, Received;
    }

    private readonly ConcurrentDictionary<(string Worker, LinkKind Link), Totals> _totals = new();

    public void Sent(string worker, LinkKind link, long bytes) => Interlocked.Add(ref Of(worker, link).Sent, bytes);

    public void Received(string worker, LinkKind link, long bytes) => Interlocked.Add(ref Of(worker, link).Received, bytes);

    /// <summary>Every (worker, link) that has moved anything, with its totals so far.</summary>
    public IReadOnlyList<(string Worker, LinkKind Link, long Sent, long Received)> Snapshot() =>
        _totals.Select(t => (t.Key.Worker, t.Key.Link, Interlocked.Read(ref t.Value.Sent), Interlocked.Read(ref t.Value.Received))).ToList();

    private Totals Of(string worker, LinkKind link) => _totals.GetOrAdd((worker, link), _ => new Totals());
}
