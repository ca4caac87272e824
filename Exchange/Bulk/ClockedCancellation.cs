// A cancellation that comes when a clock says so or when the caller's does: deadlines and stall limits read one injected clock.
namespace DistClip.Exchange.Bulk;

/// <summary>
/// A token cancelled <see cref="CancelAfter"/> a time on <see cref="TimeProvider"/>'s clock, or at once when the caller's
/// token is — a linked source whose timer is the given clock's, so that tests drive deadlines with a fake clock
/// (<see cref="TimeProvider.System"/> in the product: the same timer queue as <c>CancelAfter</c> on any source).
/// </summary>
internal sealed class ClockedCancellation : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationTokenRegistration _caller;

    public ClockedCancellation(CancellationToken caller, TimeProvider time)
    {
        _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _caller = caller.Register(static s => ((CancellationTokenSource)s!).Cancel(), _source);  // runs at once if it is cancelled already
    }

    public CancellationToken Token => _source.Token;

    public bool IsCancellationRequested => _source.IsCancellationRequested;

    /// <summary>Cancels after <paramref name="delay"/> from now on the clock, replacing any earlier time set.</summary>
    public void CancelAfter(TimeSpan delay) => _source.CancelAfter(delay);

    public void Dispose()
    {
        _caller.Dispose();
        _source.Dispose();
    }
}
