// After its run completes, a coordinator node stays in the cluster a while to tell late workers that the run is over.
namespace DistClip.Hosting;

/// <summary>
/// How long a coordinator node stays in the cluster once its run has completed (<c>coordinator --linger</c>): while it
/// does, a worker that asks to join — its pod restarted as the run ended, or started late — is told the run is over and
/// exits 0 at once, instead of waiting <c>--coordinator-timeout</c> for a coordinator that will not come back and exiting 1.
/// The node stays up beside the run's last work (evaluation, weights, summary) and leaves when the time is up or a signal
/// ends it; the process waits for that (<see cref="LeftAsync"/>), since a node that vanishes without leaving looks lost to
/// its workers.
/// </summary>
public sealed class CompletedRunLinger(TimeSpan length)
{
    private Task _left = Task.CompletedTask;

    public TimeSpan Length => length;

    /// <summary>Starts the wait after the run completed on <paramref name="node"/> (which already answers joiners that the run is over).</summary>
    internal void Begin(CoordinatorNode node, TextWriter output, CancellationToken stop)
    {
        output.WriteLine($"the run is complete; for {length.TotalSeconds:F0} s (--linger) workers that ask to join are told so");
        _left = LeaveAfterAsync(node, stop);
    }

    private async Task LeaveAfterAsync(CoordinatorNode node, CancellationToken stop)
    {
        try { await Task.Delay(length, stop).ConfigureAwait(false); }
        catch (OperationCanceledException) { }   // a signal: leave now
        await node.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Completes when the node has left the cluster (at once when no run completed with a linger).</summary>
    public Task LeftAsync() => _left;
}
