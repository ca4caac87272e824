// The whole training state as bulk frames: a byte string cut into float-sized pieces the bulk channel carries.
using System.Runtime.InteropServices;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// How a state bundle (bytes) travels as <see cref="BulkKind.State"/> frames: piece i holds bytes
/// [i·<see cref="PieceBytes"/>, +<see cref="PieceBytes"/>) (the last one fewer, zero-padded to whole floats), in
/// <see cref="BulkMessage.Shard"/> its index, in <see cref="BulkMessage.SampleCount"/> the piece count and in
/// <see cref="BulkMessage.LossSum"/> the bundle's length (exact in a double); <see cref="BulkMessage.Step"/> and
/// <see cref="BulkMessage.Version"/> are the state's. A piece is never longer than the exchange vector, which bounds
/// every frame a worker's listener accepts, and at most 4 MiB.
/// </summary>
public static class StatePieces
{
    /// <summary>Floats of one piece for an exchange vector of <paramref name="exchangeLength"/> elements.</summary>
    public static int PieceFloats(int exchangeLength) => Math.Max(1, Math.Min(exchangeLength, 1 << 20));

    public static int PieceBytes(int exchangeLength) => PieceFloats(exchangeLength) * sizeof(float);

    /// <summary>The frames of <paramref name="bundle"/>, tokens left to the sender.</summary>
    public static IEnumerable<BulkMessage> Of(byte[] bundle, long steps, long version, int exchangeLength)
    {
        int pieceBytes = PieceBytes(exchangeLength);
        int count = Math.Max(1, (bundle.Length + pieceBytes - 1) / pieceBytes);
        for (int i = 0; i < count; i++)
        {
            int start = i * pieceBytes, length = Math.Min(pieceBytes, bundle.Length - start);
            var values = new float[(length + sizeof(float) - 1) / sizeof(float)];
            bundle.AsSpan(start, length).CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            yield return new BulkMessage(BulkKind.State, 0, steps, version, i, count, bundle.Length, values);
        }
    }

    /// <summary>The bytes a piece carries and where they go in the bundle; null (with why) for a piece that cannot be one of a bundle.</summary>
    public static (int Offset, int TotalBytes, byte[] Data)? Read(BulkMessage piece, int exchangeLength, out string? rejection)
    {
        rejection = null;
        int pieceBytes = PieceBytes(exchangeLength);
        double total = piece.LossSum;
        if (piece.Kind != BulkKind.State || !(total >= 0 && total <= int.MaxValue) || total != Math.Floor(total))
            rejection = "not a piece of a state bundle";
        else if (piece.SampleCount != Math.Max(1, ((int)total + pieceBytes - 1) / pieceBytes) || (uint)piece.Shard >= (uint)piece.SampleCount)
            rejection = $"piece {piece.Shard} of {piece.SampleCount} of a {total}-byte bundle";
        if (rejection is not null) return null;
        int offset = piece.Shard * pieceBytes, length = Math.Min(pieceBytes, (int)total - offset);
        if (piece.Values.Length * sizeof(float) < length) { rejection = $"piece {piece.Shard} carries {piece.Values.Length * sizeof(float)} bytes, it holds {length}"; return null; }
        return (offset, (int)total, MemoryMarshal.AsBytes(piece.Values.AsSpan()).Slice(0, length).ToArray());
    }
}
