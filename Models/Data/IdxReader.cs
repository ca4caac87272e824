// Reads the IDX format of MNIST and Fashion-MNIST (raw or gzip-compressed).
using System.Buffers.Binary;
using System.IO.Compression;

namespace DistClip.Models.Data;

/// <summary>
/// Reader for IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic 0x0000_08_dd,
/// where 08 = unsigned byte and dd = number of dimensions, then one int32 per dimension) followed by
/// the data. Gzip-compressed files are detected by their magic bytes.
/// </summary>
public static class IdxReader
{
    /// <summary>Reads an unsigned-byte IDX file; returns its dimensions and data.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt or not unsigned-byte IDX; the message names it.</exception>
    public static (int[] Dimensions, byte[] Data) ReadBytes(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        byte[] raw;
        try { raw = Decompress(File.ReadAllBytes(path)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt gzip stream ({e.Message}).", e); }
        if (raw.Length < 4) throw new InvalidDataException($"{path}: truncated IDX header ({raw.Length} bytes).");
        if (raw[0] != 0 || raw[1] != 0 || raw[2] != 0x08)
            throw new InvalidDataException($"{path}: not an unsigned-byte IDX file (magic {Convert.ToHexString(raw, 0, 4)}).");
        int rank = raw[3];
        if (rank < 1 || raw.Length < 4 + 4 * rank) throw new InvalidDataException($"{path}: truncated IDX header (rank {rank}).");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * d));
            if (dims[d] < 0) throw new InvalidDataException($"{path}: negative dimension {dims[d]}.");
            count *= dims[d];
        }
        int offset = 4 + 4 * rank;
        if (raw.Length - offset != count)
            throw new InvalidDataException($"{path}: header promises {count} bytes of data but the file holds {raw.Length - offset} (truncated or corrupt).");
        return (dims, raw[offset..]);
    }

    private static byte[] Decompress(byte[] bytes)
    {
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }
}
