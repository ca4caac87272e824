// Reads under a stall limit: a peer that stops sending is given up on, a reader that was merely late is not.
using System.Net.Sockets;

namespace DistClip.Exchange.Bulk;

/// <summary>A stream that can tell whether bytes have reached it that no read has taken yet.</summary>
internal interface IKnowsWaitingBytes
{
    bool BytesWaiting { get; }
}

/// <summary>Fills buffers from a peer's stream, giving up once no bytes have come for a stall limit.</summary>
internal static class StallBoundReads
{
    private static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Fills <paramref name="into"/>; once no bytes have come for <paramref name="stallLimit"/>, the read fails with
    /// <see cref="OperationCanceledException"/> (<see cref="Timeout.InfiniteTimeSpan"/>: never). The limit is on a stall, not
    /// on the whole buffer: a slow but steady peer streams on. The timer is re-armed lazily as bytes arrive, once a quarter of
    /// the limit has passed, because a socket may return a frame in many small reads and re-arming a timer hundreds of times
    /// per frame costs more than the reads; it is always armed for the limit since the last bytes came. A timer that fires is
    /// only a suspicion, checked before it counts: one armed before the last bytes came is early (it is armed again for the
    /// time left), and a read cancelled while bytes wait on the socket was no stall — in a busy process a starved thread pool
    /// runs socket completions late, and the timer fires over bytes that came long ago (a CI run dropped a steady link so).
    /// </summary>
    /// <param name="time">The clock the limit is measured and timed on: <see cref="TimeProvider.System"/> (null), a fake one in tests.</param>
    /// <exception cref="EndOfStreamException">The stream ends first.</exception>
    public static async ValueTask FillAsync(Stream stream, Memory<byte> into, TimeSpan stallLimit, CancellationToken cancel, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        bool bounded = stallLimit != Timeout.InfiniteTimeSpan;
        long rearmAfter = bounded ? (long)(stallLimit.TotalSeconds / 4 * time.TimestampFrequency) : long.MaxValue;
        long armed = long.MinValue, lastBytes = time.GetTimestamp();
        var stall = new ClockedCancellation(cancel, time);
        try
        {
            while (into.Length > 0)
            {
                if (stall.IsCancellationRequested && !cancel.IsCancellationRequested)  // it fired, and was found no stall
                {
                    stall.Dispose();
                    stall = new ClockedCancellation(cancel, time);
                    armed = long.MinValue;
                }
                long now = time.GetTimestamp();
                if (bounded && (armed == long.MinValue || now - armed >= rearmAfter))
                {
                    var left = stallLimit - time.GetElapsedTime(lastBytes, now);
                    stall.CancelAfter(left > Shortest ? left : Shortest);
                    armed = now;
                }
                int read;
                try { read = await stream.ReadAsync(into, stall.Token).ConfigureAwait(false); }
                catch (OperationCanceledException e) when (e.CancellationToken == stall.Token && stall.IsCancellationRequested && !cancel.IsCancellationRequested)
                {
                    if (time.GetElapsedTime(lastBytes) < stallLimit) continue;       // armed before the last bytes came: early
                    if (!BytesWaiting(stream)) throw;                                  // a stall
                    lastBytes = time.GetTimestamp();                                   // bytes came; the read that would have seen them ran late
                    continue;
                }
                if (read == 0) throw new EndOfStreamException("The bulk frame ends early.");
                lastBytes = time.GetTimestamp();
                into = into[read..];
            }
        }
        finally { stall.Dispose(); }
    }

    /// <summary>Whether bytes have reached <paramref name="stream"/> that no read has taken yet; false when it cannot tell.</summary>
    public static bool BytesWaiting(Stream stream)
    {
        try { return stream switch { NetworkStream n => n.DataAvailable, IKnowsWaitingBytes s => s.BytesWaiting, _ => false }; }
        catch (Exception e) when (e is ObjectDisposedException or IOException or SocketException) { return false; }
    }
}
