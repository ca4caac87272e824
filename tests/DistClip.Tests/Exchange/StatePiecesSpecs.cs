// The whole state as bulk frames: cut, carried through the frame format, put back together byte for byte.
using DistClip.Exchange.Bulk;
using Xunit;

namespace DistClip.Tests.Exchange;

public class StatePiecesSpecs
{
    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 100)]
    [InlineData(399, 100)]    // one byte short of whole pieces
    [InlineData(400, 100)]    // exactly one piece
    [InlineData(1203, 100)]   // four pieces, the last padded
    public void Should_put_a_bundle_back_together_from_its_frames(int bytes, int exchangeLength)
    {
        var bundle = new byte[bytes];
        new Random(bytes).NextBytes(bundle);
        var rebuilt = new byte[bytes];
        var pieces = StatePieces.Of(bundle, steps: 7, version: 6, exchangeLength).ToList();
        Assert.Equal(Math.Max(1, (bytes + 399) / 400), pieces.Count);
        foreach (var piece in pieces)
        {
            using var stream = new MemoryStream();
            BulkFrame.Write(stream, piece with { Token = 42 });
            stream.Position = 0;
            var carried = BulkFrame.Read(stream, exchangeLength)!;   // a piece is never longer than the exchange vector
            Assert.Equal((BulkKind.State, 7L, 6L), (carried.Kind, carried.Step, carried.Version));
            var (offset, total, data) = StatePieces.Read(carried, exchangeLength, out var rejection) ?? throw new Xunit.Sdk.XunitException(rejection);
            Assert.Equal(bytes, total);
            data.CopyTo(rebuilt, offset);
        }
        Assert.Equal(bundle, rebuilt);
    }

    [Fact]
    public void Should_refuse_a_piece_that_cannot_be_one_of_its_bundle()
    {
        var piece = StatePieces.Of(new byte[1000], 1, 1, 100).First();
        Assert.Null(StatePieces.Read(piece with { Shard = 3 }, 100, out var past));
        Assert.Contains("piece 3 of 3", past);
        Assert.Null(StatePieces.Read(piece with { LossSum = 0.5 }, 100, out var fraction));
        Assert.Contains("not a piece", fraction);
        Assert.Null(StatePieces.Read(piece with { Values = new float[10] }, 100, out var short_));
        Assert.Contains("carries 40 bytes", short_);
    }
}
