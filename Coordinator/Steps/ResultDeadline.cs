// How long to wait for a shard's result before asking for it again: a multiple of what steps take.
namespace DistClip.Coordinator.Steps;

/// <summary>
/// The time after which a shard whose result has not arrived is asked for again: <see cref="Multiple"/> times the
/// typical recent step (an exponential moving average of step durations), at least <see cref="Floor"/> and at most
/// <paramref name="ceilingSeconds"/>; before any step is timed, <see cref="Untimed"/> (or the ceiling if lower). A
/// result lost on the way (a connection closed under it) then costs a few steps' time, not minutes; a slow worker
/// asked twice computes twice, and the duplicate result is dropped. Each further wait in the same step is twice the
/// last (<see cref="Backoff"/>), so a step that is merely slow is not flooded with requests.
/// </summary>
public sealed class ResultDeadline(double ceilingSeconds)
{
    public const double Multiple = 20;
    public static readonly TimeSpan Floor = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Untimed = TimeSpan.FromSeconds(30);
    private const double Smoothing = 0.1;   // weight of the newest step in the average
    private double? _typicalSeconds;

    /// <summary>The wait before asking again.</summary>
    public TimeSpan Current => TimeSpan.FromSeconds(Math.Min(ceilingSeconds,
        _typicalSeconds is not { } typical ? Untimed.TotalSeconds : Math.Max(Floor.TotalSeconds, Multiple * typical)));

    /// <summary>The wait after <paramref name="last"/> passed without the result: twice as long, at most the ceiling.</summary>
    public TimeSpan Backoff(TimeSpan last) => TimeSpan.FromSeconds(Math.Min(ceilingSeconds, 2 * last.TotalSeconds));

    /// <summary>Counts a completed step's duration.</summary>
    public void StepTook(double seconds) =>
        _typicalSeconds = _typicalSeconds is not { } typical ? seconds : typical + Smoothing * (seconds - typical);
}
