// Splits large gradients and parameters into bounded chunks, and puts them back together.
using System.Runtime.InteropServices;
using Akka.Actor;

namespace DistClip.Protocol.Wire;

/// <summary>
/// The data plane over remoting: a message with a model-sized float array is sent to a remote actor
/// as chunks of at most <see cref="ChunkElements"/> floats (raw little-endian bytes, so MessagePack adds
/// no per-element overhead), and to a local actor whole, by reference.
/// </summary>
public static class Chunking
{
    /// <summary>Floats per chunk: 512 KiB of payload, well inside the remoting frame size of the HOCON defaults.</summary>
    public const int ChunkElements = 128 * 1024;

    public static IEnumerable<GradientChunk> Split(ShardGradients g, int chunkElements = ChunkElements) =>
        Pieces(g.GradientSum, chunkElements).Select(p => new GradientChunk(g.Step, g.Version, g.Shard, g.SampleCount, g.LossSum, g.GradientSum.Length, p.Count, p.Offset, p.Data));

    public static IEnumerable<ParameterChunk> Split(ParameterUpdate u, int chunkElements = ChunkElements) =>
        Pieces(u.Values, chunkElements).Select(p => new ParameterChunk(u.Version, u.Values.Length, p.Count, p.Offset, p.Data));

    /// <summary>Sends <paramref name="message"/> whole to a local actor, as chunks to a remote one.</summary>
    public static void Send(IActorRef target, ShardGradients message, IActorRef sender)
    {
        if (target.Path.Address.HasLocalScope) target.Tell(message, sender);
        else foreach (var chunk in Split(message)) target.Tell(chunk, sender);
    }

    /// <inheritdoc cref="Send(IActorRef, ShardGradients, IActorRef)"/>
    public static void Send(IActorRef target, ParameterUpdate message, IActorRef sender)
    {
        if (target.Path.Address.HasLocalScope) target.Tell(message, sender);
        else foreach (var chunk in Split(message)) target.Tell(chunk, sender);
    }

    private static IEnumerable<(int Count, int Offset, byte[] Data)> Pieces(float[] values, int chunkElements)
    {
        if (chunkElements < 1) throw new ArgumentOutOfRangeException(nameof(chunkElements), chunkElements, "must be at least 1");
        int count = Math.Max(1, (values.Length + chunkElements - 1) / chunkElements);
        for (int c = 0; c < count; c++)
        {
            int offset = c * chunkElements, length = Math.Min(chunkElements, values.Length - offset);
            yield return (count, offset, MemoryMarshal.AsBytes(values.AsSpan(offset, length)).ToArray());
        }
    }
}

/// <summary>
/// Collects the chunks of transfers identified by <typeparamref name="TKey"/> into whole float arrays.
/// Chunks may arrive in any order; a chunk that contradicts its transfer (another length, out of
/// range, a duplicate) is rejected with a reason, and the transfer's other chunks are kept.
/// </summary>
public sealed class ChunkAssembler<TKey> where TKey : notnull
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
        if (elementCount < 0 || chunkCount < 1 || data.Length % sizeof(float) != 0 || offset < 0 || offset + data.Length / sizeof(float) > elementCount)
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
