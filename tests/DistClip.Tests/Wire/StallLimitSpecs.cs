// The bulk channel's stall limit: a peer that stops sending is dropped, a reader that was merely late is not.
using DistClip.Exchange;
using DistClip.Exchange.Bulk;
using Xunit;

namespace DistClip.Tests.Wire;

public sealed class StallLimitSpecs
{
    private static readonly float[] Values = Enumerable.Range(0, 5_000).Select(i => MathF.Sin(i)).ToArray();

    private static byte[] Frame()
    {
        var framed = new MemoryStream();
        BulkFrame.Write(framed, new BulkMessage(BulkKind.Gradients, 5, 3, 2, 1, 8, 4.5, Values));
        return framed.ToArray();
    }

    /// <summary>
    /// A busy process can run a stall timer's callback late, after the read it was armed for has returned bytes: the
    /// cancellation then lands on the next read, a moment after bytes came. This stream plays that: every other read is
    /// cancelled at once by the token it was given. None of those is a stall, and the frame arrives whole.
    /// </summary>
    [Fact]
    public async Task Should_not_count_a_late_timers_cancellation_as_a_stall()
    {
        var stream = new PieceByPieceStream(Frame(), piece: 1_000) { CancelEveryOtherRead = true };
        var frame = await BulkFrame.ReadAsync(stream, 10_000, null, null, CancellationToken.None, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(Values.Select(BitConverter.SingleToInt32Bits), frame!.Values.Select(BitConverter.SingleToInt32Bits));
        Assert.True(stream.CancelledReads > 5, $"only {stream.CancelledReads} reads were cancelled");
    }

    [Fact]
    public async Task Should_give_up_on_a_frame_whose_bytes_stop_coming()
    {
        var stream = new PieceByPieceStream(Frame()[..2_000], piece: 1_000);
        var reading = BulkFrame.ReadAsync(stream, 10_000, null, null, CancellationToken.None, TimeSpan.FromMilliseconds(300), CancellationToken.None).AsTask();
        Assert.Same(reading, await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(10))));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
    }

    [Fact]
    public async Task Should_stop_at_once_when_the_caller_cancels_however_the_bytes_come()
    {
        using var stop = new CancellationTokenSource();
        var stream = new PieceByPieceStream(Frame()[..2_000], piece: 1_000) { CancelEveryOtherRead = true };
        var reading = BulkFrame.ReadAsync(stream, 10_000, null, null, CancellationToken.None, TimeSpan.FromSeconds(30), stop.Token).AsTask();
        await stream.Drained.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stop.Cancel();
        Assert.Same(reading, await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(10))));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);  // within seconds, under a stall limit of 30
    }

    /// <summary>Returns its bytes a piece per read, then waits (cancellably) for bytes that never come.</summary>
    private sealed class PieceByPieceStream(byte[] bytes, int piece) : Stream
    {
        private int _at, _reads;
        public bool CancelEveryOtherRead { get; init; }
        public int CancelledReads { get; private set; }
        public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (CancelEveryOtherRead && cancellationToken.CanBeCanceled && _reads++ % 2 == 1)
            {
                CancelledReads++;
                throw new OperationCanceledException(cancellationToken);
            }
            if (_at == bytes.Length)
            {
                Drained.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            int n = Math.Min(Math.Min(piece, buffer.Length), bytes.Length - _at);
            bytes.AsSpan(_at, n).CopyTo(buffer.Span);
            _at += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanWrite => false;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
