// The framing of the bulk channel: one fixed header, then the float32 payload as raw little-endian bytes.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DistClip.Protocol;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// Reads and writes <see cref="BulkMessage"/>s on a stream. Layout, little-endian: magic "DCB" + protocol
/// version (4 bytes), kind (1), token (8), step (8), version (8), shard (4), sample count (4), loss sum (8),
/// element count (4), offset (4: where the values start in the exchange vector), plan (8: the sharded step's attempt; 0
/// for the central kinds), then element count × 4 bytes of float32.
/// A frame says nothing of who sent it: the receiver knows its sender by the token (<see cref="BulkTokens"/>) and the
/// connection it arrived on.
/// </summary>
public static class BulkFrame
{
    private static readonly byte[] Magic = [(byte)'D', (byte)'C', (byte)'B', (byte)ProtocolVersion.Current];
    /// <summary>Bytes of a frame before its values.</summary>
    public const int Header = 4 + 1 + 8 + 8 + 8 + 4 + 4 + 8 + 4 + 4 + 8;

    public static void Write(Stream stream, BulkMessage m)
    {
        Span<byte> h = stackalloc byte[Header];
        Magic.CopyTo(h);
        h[4] = (byte)m.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(h[5..], m.Token);
        BinaryPrimitives.WriteInt64LittleEndian(h[13..], m.Step);
        BinaryPrimitives.WriteInt64LittleEndian(h[21..], m.Version);
        BinaryPrimitives.WriteInt32LittleEndian(h[29..], m.Shard);
        BinaryPrimitives.WriteInt32LittleEndian(h[33..], m.SampleCount);
        BinaryPrimitives.WriteDoubleLittleEndian(h[37..], m.LossSum);
        BinaryPrimitives.WriteInt32LittleEndian(h[45..], m.Values.Length);
        BinaryPrimitives.WriteInt32LittleEndian(h[49..], m.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(h[53..], m.Plan);
        stream.Write(h);
        stream.Write(MemoryMarshal.AsBytes(m.Values.AsSpan()));  // float32 is little-endian on every platform .NET runs DistClip on
        stream.Flush();
    }

    /// <summary>
    /// Reads one frame; null at a clean end of stream. A frame that is not DistClip's, of another protocol
    /// version, under a token not accepted, or whose range reaches past <paramref name="maxElements"/> (the exchange vector's
    /// length) throws <see cref="InvalidDataException"/>.
    /// The values are read into <paramref name="buffers"/>' array when given, else into a new one.
    /// </summary>
    public static BulkMessage? Read(Stream stream, int maxElements, ReceiveBufferPool? buffers = null) =>
        ReadAsync(stream, maxElements, null, buffers, CancellationToken.None, Timeout.InfiniteTimeSpan, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="Read"/>
    /// <remarks>
    /// Holds no thread while it waits for bytes: a peer that sends half a frame and stops costs a buffer, not a thread.
    /// <paramref name="headerCancel"/> ends the wait for a frame to begin; once it has, no read may wait longer than
    /// <paramref name="stallLimit"/> for its next bytes (a slow link keeps going, a stalled peer does not). A frame under a
    /// token that <paramref name="acceptsToken"/> (when given) refuses is refused from its header, before its values are allocated.
    /// The stall limit is measured on <paramref name="time"/>'s clock (null: <see cref="TimeProvider.System"/>).
    /// </remarks>
    public static async ValueTask<BulkMessage?> ReadAsync(Stream stream, int maxElements, Func<long, bool>? acceptsToken, ReceiveBufferPool? buffers,
        CancellationToken headerCancel, TimeSpan stallLimit, CancellationToken cancel, TimeProvider? time = null)
    {
        var header = new byte[Header];
        int first = await stream.ReadAtLeastAsync(header, 1, throwOnEndOfStream: false, headerCancel).ConfigureAwait(false);
        if (first == 0) return null;
        try { if (first < header.Length) await StallBoundReads.FillAsync(stream, header.AsMemory(first), stallLimit, cancel, time).ConfigureAwait(false); }
        catch (EndOfStreamException) { throw new InvalidDataException($"Truncated bulk frame header (fewer than {header.Length} bytes)."); }
        var (kind, count, offset) = CheckHeader(header, maxElements, acceptsToken);
        var values = buffers?.Rent(count) ?? GC.AllocateUninitializedArray<float>(count);  // every element is overwritten just below
        await ReadValuesAsync(stream, values, count, stallLimit, cancel, time).ConfigureAwait(false);
        var h = header.AsSpan();
        return new BulkMessage(kind, BinaryPrimitives.ReadInt64LittleEndian(h[5..]),
            BinaryPrimitives.ReadInt64LittleEndian(h[13..]), BinaryPrimitives.ReadInt64LittleEndian(h[21..]),
            BinaryPrimitives.ReadInt32LittleEndian(h[29..]), BinaryPrimitives.ReadInt32LittleEndian(h[33..]),
            BinaryPrimitives.ReadDoubleLittleEndian(h[37..]), values) { Offset = offset, Plan = BinaryPrimitives.ReadInt64LittleEndian(h[53..]) };
    }

    /// <summary>Reads <paramref name="count"/> float32 values straight into <paramref name="values"/>.</summary>
    private static async ValueTask ReadValuesAsync(Stream stream, float[] values, int count, TimeSpan stallLimit, CancellationToken cancel, TimeProvider? time)
    {
        using var bytes = new FloatBytes(values, count);
        await StallBoundReads.FillAsync(stream, bytes.Memory, stallLimit, cancel, time).ConfigureAwait(false);
    }

    /// <summary>The frame's kind, element count and offset, or <see cref="InvalidDataException"/> for a header that is not acceptable.</summary>
    private static (BulkKind Kind, int Count, int Offset) CheckHeader(ReadOnlySpan<byte> h, int maxElements, Func<long, bool>? acceptsToken)
    {
        if (!h[..3].SequenceEqual(Magic.AsSpan(0, 3))) throw new InvalidDataException("Not a DistClip bulk frame (bad magic).");
        if (h[3] != Magic[3]) throw new InvalidDataException($"Bulk frame of DistClip protocol v{h[3]}; this node speaks v{ProtocolVersion.Current}.");
        var kind = (BulkKind)h[4];
        if (!Enum.IsDefined(kind)) throw new InvalidDataException($"Unknown bulk frame kind {h[4]}.");
        if (acceptsToken is not null && !acceptsToken(BinaryPrimitives.ReadInt64LittleEndian(h[5..])))
            throw new InvalidDataException("A bulk frame under a token this end does not accept (of another run, of a worker no longer admitted, or not the one its connection is bound to).");
        int count = BinaryPrimitives.ReadInt32LittleEndian(h[45..]);
        if (count < 0 || count > maxElements) throw new InvalidDataException($"Bulk frame of {count} elements; at most {maxElements} are accepted.");
        int offset = BinaryPrimitives.ReadInt32LittleEndian(h[49..]);
        if (offset < 0 || offset > maxElements - count)
            throw new InvalidDataException($"Bulk frame of elements [{offset}, {(long)offset + count}); the exchange vector has {maxElements}.");
        return (kind, count, offset);
    }
}
