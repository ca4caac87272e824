// The framing of the bulk channel: one fixed header, then the float32 payload as raw little-endian bytes.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using DistClip.Protocol;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// Reads and writes <see cref="BulkMessage"/>s on a stream. Layout, little-endian: magic "DCB" + protocol
/// version (4 bytes), kind (1), token (8), step (8), version (8), shard (4), sample count (4), loss sum (8),
/// element count (4), sender name length (2) and UTF-8 bytes, then element count × 4 bytes of float32.
/// </summary>
public static class BulkFrame
{
    private static readonly byte[] Magic = [(byte)'D', (byte)'C', (byte)'B', (byte)ProtocolVersion.Current];
    private const int FixedHeader = 4 + 1 + 8 + 8 + 8 + 4 + 4 + 8 + 4 + 2;

    public static void Write(Stream stream, BulkMessage m)
    {
        var name = Encoding.UTF8.GetBytes(m.From);
        if (name.Length > ushort.MaxValue) throw new ArgumentException("The sender name is too long for a bulk frame.", nameof(m));
        var header = new byte[FixedHeader + name.Length];
        var h = header.AsSpan();
        Magic.CopyTo(h);
        h[4] = (byte)m.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(h[5..], m.Token);
        BinaryPrimitives.WriteInt64LittleEndian(h[13..], m.Step);
        BinaryPrimitives.WriteInt64LittleEndian(h[21..], m.Version);
        BinaryPrimitives.WriteInt32LittleEndian(h[29..], m.Shard);
        BinaryPrimitives.WriteInt32LittleEndian(h[33..], m.SampleCount);
        BinaryPrimitives.WriteDoubleLittleEndian(h[37..], m.LossSum);
        BinaryPrimitives.WriteInt32LittleEndian(h[45..], m.Values.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[49..], (ushort)name.Length);
        name.CopyTo(h[FixedHeader..]);
        stream.Write(header);
        stream.Write(MemoryMarshal.AsBytes(m.Values.AsSpan()));  // float32 is little-endian on every platform .NET runs DistClip on
        stream.Flush();
    }

    /// <summary>
    /// Reads one frame; null at a clean end of stream. A frame that is not DistClip's, of another protocol
    /// version, or larger than <paramref name="maxElements"/> throws <see cref="InvalidDataException"/>.
    /// The values are read into <paramref name="buffers"/>' array when given, else into a new one.
    /// </summary>
    public static BulkMessage? Read(Stream stream, int maxElements, ReceiveBufferPool? buffers = null)
    {
        var header = new byte[FixedHeader];
        int first = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (first == 0) return null;
        if (first < header.Length) throw new InvalidDataException($"Truncated bulk frame header ({first} of {header.Length} bytes).");
        var h = header.AsSpan();
        if (!h[..3].SequenceEqual(Magic.AsSpan(0, 3))) throw new InvalidDataException("Not a DistClip bulk frame (bad magic).");
        if (h[3] != Magic[3]) throw new InvalidDataException($"Bulk frame of DistClip protocol v{h[3]}; this node speaks v{ProtocolVersion.Current}.");
        var kind = (BulkKind)h[4];
        if (kind is not (BulkKind.Gradients or BulkKind.Parameters)) throw new InvalidDataException($"Unknown bulk frame kind {h[4]}.");
        int count = BinaryPrimitives.ReadInt32LittleEndian(h[45..]);
        if (count < 0 || count > maxElements) throw new InvalidDataException($"Bulk frame of {count} elements; at most {maxElements} are accepted.");
        var name = new byte[BinaryPrimitives.ReadUInt16LittleEndian(h[49..])];
        stream.ReadExactly(name);
        var values = buffers?.Rent(count) ?? GC.AllocateUninitializedArray<float>(count);  // every element is overwritten just below
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return new BulkMessage(kind, BinaryPrimitives.ReadInt64LittleEndian(h[5..]), Encoding.UTF8.GetString(name),
            BinaryPrimitives.ReadInt64LittleEndian(h[13..]), BinaryPrimitives.ReadInt64LittleEndian(h[21..]),
            BinaryPrimitives.ReadInt32LittleEndian(h[29..]), BinaryPrimitives.ReadInt32LittleEndian(h[33..]),
            BinaryPrimitives.ReadDoubleLittleEndian(h[37..]), values);
    }
}
