// Puts chunked transfers back together, whatever order their chunks arrive in.
using System.Runtime.InteropServices;

namespace DistClip.Exchange.Chunks;

/// <summary>
/// Collects the chunks of transfers identified by <typeparamref name="TKey"/> into whole float arrays.
/// Chunks may arrive in any order; a chunk that contradicts its transfer (another length, out of
/// range, a duplicate) is rejected with a reason, and the transfer's other chunks are kept. A transfer is of
/// exactly <paramref name="elements"/> values (the model's exchange length): a chunk that claims another length is
/// refused before anything is allocated.
/// </summary>
public sealed class ChunkAssembler<TKey>(int elements) where TKey : notnull
{
    private sealed class Transfer(int elementCount, int chunkCount)
    {
        public readonly float[] Values = new float[elementCount];
        public readonly HashSet<int> Offsets = [];
        public readonly int ChunkCount = chunkCount;
    }

    private readonly Dictionary<TKey, Transfer> _open = [];

    /// <summary>Transfers begun and not complete.</summary>
    public int OpenTransfers => _open.Count;

    /// <summary>
    /// Adds a chunk. Returns the whole array when this chunk completes its transfer, null otherwise;
    /// <paramref name="rejection"/> says why a chunk was refused.
    /// </summary>
    public float[]? Add(TKey key, int elementCount, int chunkCount, int offset, byte[] data, out string? rejection)
    {
        rejection = null;
        if (elementCount != elements)
        {
            rejection = $"a transfer of {elementCount} elements; this model exchanges {elements}";
            return null;
        }
        if (chunkCount < 1 || data.Length % sizeof(float) != 0 || offset < 0 || offset + data.Length / sizeof(float) > elementCount)
        {
            rejection = $"chunk at offset {offset} with {data.Length} bytes does not fit a transfer of {elementCount} elements in {chunkCount} chunks";
            return null;
        }
        if (!_open.TryGetValue(key, out var transfer)) _open[key] = transfer = new Transfer(elementCount, chunkCount);
        if (transfer.Values.Length != elementCount || transfer.ChunkCount != chunkCount)
        {
            rejection = $"chunk says {elementCount} elements in {chunkCount} chunks; its transfer began with {transfer.Values.Length} in {transfer.ChunkCount}";
            return null;
        }
        if (!transfer.Offsets.Add(offset)) { rejection = $"duplicate chunk at offset {offset}"; return null; }
        MemoryMarshal.Cast<byte, float>(data).CopyTo(transfer.Values.AsSpan(offset));
        if (transfer.Offsets.Count < chunkCount) return null;
        _open.Remove(key);
        return transfer.Values;
    }

    /// <summary>Drops the open transfers <paramref name="stale"/> selects (for example of finished steps).</summary>
    public void Forget(Func<TKey, bool> stale)
    {
        foreach (var key in _open.Keys.Where(stale).ToList()) _open.Remove(key);
    }
}
