// The bulk channel's stall limit: a peer that stops sending is dropped, a reader that was merely late is not.
using System.Net.Sockets;
using DistClip.Exchange;
using DistClip.Exchange.Bulk;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace DistClip.Tests.Wire;

public sealed class StallLimitSpecs
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly float[] Values = Enumerable.Range(0, 5_000).Select(i => MathF.Sin(i)).ToArray();

    private static byte[] Frame()
    {
        var framed = new MemoryStream();
        BulkFrame.Write(framed, new BulkMessage(BulkKind.Gradients, 5, 3, 2, 1, 8, 4.5, Values));
        return framed.ToArray();
    }

    /// <summary>
    /// A starved thread pool runs a socket's completion late: the stall timer fires while the bytes wait on the socket.
    /// <see cref="LateStream"/> plays that on a real socket that already holds the whole frame: every other read waits
    /// until its timer has fired. Its first such wait outlasts the limit since the last bytes, so only the bytes waiting
    /// on the socket tell it from a stall; none is one, and the frame arrives whole.
    /// </summary>
    [Fact]
    public async Task Should_not_count_a_timer_that_fires_over_waiting_bytes_as_a_stall()
    {
        using var pair = await LoopbackPorts.ConnectedPairAsync();
        var (sender, receiver) = pair;
        await sender.GetStream().WriteAsync(Frame());

        var stream = new LateStream(receiver.Client);
        var frame = await BulkFrame.ReadAsync(stream, 10_000, null, null, CancellationToken.None, TimeSpan.FromMilliseconds(200), CancellationToken.None)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Values.Select(BitConverter.SingleToInt32Bits), frame!.Values.Select(BitConverter.SingleToInt32Bits));
        Assert.True(stream.LateReads >= 10, $"only {stream.LateReads} reads were late");
    }

    /// <summary>
    /// The limit counts from the last bytes, even when the timer was last armed before them. On a fake clock that the stream
    /// moves 0.2 s before each piece, the header comes at 0.2 s (the timer is armed then, to fire at 2.2 s) and the values'
    /// pieces at 0.4 s and 0.6 s (too soon after to re-arm it); the timer fires early, is armed again for the time left, and
    /// the stall is declared at 2.6 s — not a millisecond before, and not at 4.2 s as when a timer that fired early was
    /// re-armed in full.
    /// </summary>
    [Fact]
    public async Task Should_give_up_on_a_frame_whose_bytes_stop_coming_once_the_limit_has_passed_since_the_last()
    {
        var limit = TimeSpan.FromSeconds(2);
        var time = new FakeTimeProvider();
        var stream = new PieceByPieceStream(Frame()[..2_000], piece: 1_000, beforeEachPiece: () => time.Advance(TimeSpan.FromMilliseconds(200)));
        // Off the test's synchronization context: the timer's cancellation runs the reader on within Advance.
        var reading = Task.Run(() => BulkFrame.ReadAsync(stream, 10_000, null, null, CancellationToken.None, limit, CancellationToken.None, time).AsTask());
        DateTimeOffset? declaredAt = null;
        _ = reading.ContinueWith(_ => declaredAt = time.GetUtcNow(), TaskContinuationOptions.ExecuteSynchronously);
        await stream.Waits.WaitAsync(Wait);
        var lastBytes = time.GetUtcNow();

        // Past the early timer (2.2 s), just short of the limit: the timer's cancellation ends the stream's wait, and the
        // reader either declares a stall (its read ends) or, rightly, reads again (the stream waits a second time).
        time.Advance(limit - TimeSpan.FromMilliseconds(1));
        await Task.WhenAny(reading, stream.Waits.WaitAsync(Wait));
        Assert.False(reading.IsCompleted, $"a stall was declared {(declaredAt - lastBytes)?.TotalSeconds:F3} s after the last bytes, under a limit of {limit.TotalSeconds} s");
        time.Advance(TimeSpan.FromMilliseconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Wait));
        Assert.Equal(limit + TimeSpan.FromMilliseconds(1), declaredAt - lastBytes);
    }

    /// <summary>On a clock that never moves the stall limit never passes: only the caller's cancellation can end the read.</summary>
    [Fact]
    public async Task Should_stop_at_once_when_the_caller_cancels()
    {
        using var stop = new CancellationTokenSource();
        var stream = new PieceByPieceStream(Frame()[..2_000], piece: 1_000);
        var reading = BulkFrame.ReadAsync(stream, 10_000, null, null, CancellationToken.None, TimeSpan.FromSeconds(2), stop.Token, new FakeTimeProvider()).AsTask();
        await stream.Waits.WaitAsync(Wait);
        Assert.False(reading.IsCompleted);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Wait));
    }

    /// <summary>A socket's stream whose every other bounded read, the first one first, waits until its timer has fired.</summary>
    private sealed class LateStream(Socket socket) : NetworkStream(socket, ownsSocket: false)
    {
        private int _reads;
        public int LateReads { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (cancellationToken.CanBeCanceled && _reads++ % 2 == 0)
            {
                LateReads++;
                try { await Task.Delay(Timeout.Infinite, cancellationToken); }
                catch (OperationCanceledException) { }
                throw new OperationCanceledException(cancellationToken);
            }
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 1_000)], cancellationToken);
        }
    }

    /// <summary>
    /// Returns its bytes a piece per read (after <paramref name="beforeEachPiece"/>), then waits (cancellably) for bytes that
    /// never come; <see cref="Waits"/> is released each time such a wait begins.
    /// </summary>
    private sealed class PieceByPieceStream(byte[] bytes, int piece, Action? beforeEachPiece = null) : Stream
    {
        private int _at;
        public SemaphoreSlim Waits { get; } = new(0);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_at == bytes.Length)
            {
                Waits.Release();
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            beforeEachPiece?.Invoke();
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
