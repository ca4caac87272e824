// Model-sized receive buffers kept for the next frame instead of allocated per frame.
using System.Collections.Concurrent;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// Exact-length float arrays for incoming bulk frames. A fresh model-sized array per frame is new
/// large-object-heap memory that the kernel faults in and zeroes page by page, on the same cores that
/// compute; a step's buffers handed back once consumed (<see cref="Return"/>) make the next frame's
/// read a plain copy. A buffer never handed back is simply collected. At most
/// <see cref="KeptPerLength"/> buffers of one length are kept.
/// </summary>
public sealed class ReceiveBufferPool
{
    /// <summary>Buffers kept per length: a coordinator holds one per worker of a step.</summary>
    public const int KeptPerLength = 16;

    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _free = new();

    /// <summary>An array of exactly <paramref name="length"/> elements with arbitrary contents.</summary>
    public float[] Rent(int length) =>
        _free.TryGetValue(length, out var bag) && bag.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<float>(length);

    /// <summary>Hands a buffer back; the caller must not touch it afterwards.</summary>
    public void Return(float[] buffer)
    {
        var bag = _free.GetOrAdd(buffer.Length, _ => []);
        if (bag.Count < KeptPerLength) bag.Add(buffer);
    }
}
