// Why a run ends before its last step: a signal, or an output that could not be written. The first reason wins.
using System.Runtime.InteropServices;

namespace DistClip.Hosting;

/// <summary>
/// A request to end the run at the last completed step, with the reason and the exit code that say why.
/// <see cref="ListenToSignals"/> turns the first SIGINT or SIGTERM into such a request (exit code 130 or
/// 143, as a shell reports them) — unless a stop was requested already for another reason, whose exit code
/// stands; a second signal ends the process at once, as it would without DistClip.
/// </summary>
public sealed class StopRequest : IDisposable
{
    private readonly CancellationTokenSource _requested = new();
    private readonly List<PosixSignalRegistration> _signals = [];
    private (string Reason, int ExitCode)? _stop;
    private int _signalsReceived;

    /// <summary>Cancelled when a stop is requested.</summary>
    public CancellationToken Token => _requested.Token;

    /// <summary>Why the run is to stop, or null.</summary>
    public string? Reason => _stop?.Reason;

    /// <summary>The exit code that reports <see cref="Reason"/>.</summary>
    public int ExitCode => _stop?.ExitCode ?? 0;

    /// <summary>Requests a stop unless one was requested already.</summary>
    public void Request(string reason, int exitCode)
    {
        lock (_signals)
        {
            if (_stop is not null) return;
            _stop = (reason, exitCode);
        }
        _requested.Cancel();
    }

    /// <summary>From now on, SIGINT and SIGTERM request a stop.</summary>
    public StopRequest ListenToSignals()
    {
        _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        return this;
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signalsReceived) > 1) return;  // the second signal: the runtime's default, which ends the process
        context.Cancel = true;
        bool sigint = context.Signal == PosixSignal.SIGINT;
        Request($"interrupted ({(sigint ? "SIGINT" : "SIGTERM")})", sigint ? ExitCodes.Interrupted : ExitCodes.Terminated);
    }

    public void Dispose()
    {
        foreach (var signal in _signals) signal.Dispose();
        _requested.Dispose();
    }
}
