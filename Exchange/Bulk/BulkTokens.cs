// The coordinator's per-worker bulk tokens: which worker a bulk frame is attributed to.
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// One token per worker actor, given in its job offer: the token is an HMAC of the actor's full path (address and uid)
/// under a key of this coordinator, so a token is never told to anyone but its worker, offers keep no state, and a worker
/// restarted under the same name gets another. The listener accepts a frame only under the token of a worker admitted to
/// the bulk channel and not since removed (<see cref="Accepts"/>, from the listener's threads); the frame is attributed to
/// that worker (<see cref="WorkerOf"/>), never to what the frame says of itself.
/// </summary>
public sealed class BulkTokens
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<long, IActorRef> _admitted = new();

    /// <summary>The token of <paramref name="worker"/>: the same for the same actor, another for any other.</summary>
    public long For(IActorRef worker) =>
        BinaryPrimitives.ReadInt64LittleEndian(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(worker.Path.ToSerializationFormat())));

    /// <summary>
    /// The sharded exchange's token for frames <paramref name="from"/> sends to <paramref name="to"/>: one per ordered pair,
    /// told to those two only (in their <c>StepRanges</c>), so a receiver knows which peer a frame is from.
    /// </summary>
    public long ForPair(IActorRef from, IActorRef to) =>
        BinaryPrimitives.ReadInt64LittleEndian(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(from.Path.ToSerializationFormat() + " -> " + to.Path.ToSerializationFormat())));

    /// <summary>Frames under <paramref name="worker"/>'s token are accepted from now on, attributed to it.</summary>
    public void Admit(IActorRef worker) => _admitted[For(worker)] = worker;

    /// <summary>Frames under <paramref name="worker"/>'s token are refused from now on (it left or was removed).</summary>
    public void Revoke(IActorRef worker) => _admitted.TryRemove(For(worker), out _);

    /// <summary>Whether a frame under <paramref name="token"/> is accepted. Thread-safe.</summary>
    public bool Accepts(long token) => _admitted.ContainsKey(token);

    /// <summary>The admitted worker whose token <paramref name="token"/> is; null for none.</summary>
    public IActorRef? WorkerOf(long token) => _admitted.TryGetValue(token, out var worker) ? worker : null;
}
