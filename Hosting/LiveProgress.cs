// A live progress display for a terminal (Spectre.Console); plain log lines are ProgressLog's job.
using System.Globalization;
using DistClip.Coordinator;
using Spectre.Console;

namespace DistClip.Hosting;

/// <summary>
/// One progress bar with epoch/step, loss, global norm, clip rate, samples/s and the remaining time,
/// redrawn in place. Used only when standard output is an interactive terminal.
/// </summary>
public sealed class LiveProgress : ITrainingObserver, IDisposable
{
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ProgressTask> _bar = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _display;
    private readonly long _totalSteps;
    private double _loss = double.NaN, _samples, _seconds;
    private int _clipped, _steps;

    /// <summary>Whether this process writes to a terminal a live display can redraw.</summary>
    public static bool Available => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public LiveProgress(long totalSteps)
    {
        _totalSteps = totalSteps;
        _display = AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                _bar.SetResult(context.AddTask("starting", maxValue: totalSteps));
                await _finished.Task;
            });
    }

    public void OnStep(StepReport r)
    {
        _steps++;
        if (r.Outcome.Clipped) _clipped++;
        _samples += r.Samples;
        _seconds += r.Seconds;
        _loss = double.IsNaN(_loss) ? r.Loss : 0.95 * _loss + 0.05 * r.Loss;  // smoothed for reading
        var bar = _bar.Task.Result;
        bar.Description = string.Create(CultureInfo.InvariantCulture,
            $"ep {r.Epoch + 1}  {r.Step + 1}/{_totalSteps}  loss {_loss:F4}  norm {r.Outcome.GradNorm:G3}  clip {100.0 * _clipped / _steps:F0}%  {_samples / Math.Max(_seconds, 1e-9):F0} samples/s");
        bar.Value = r.Step + 1;
    }

    public void Dispose()
    {
        _finished.TrySetResult();
        _display.Wait(TimeSpan.FromSeconds(5));
    }
}
