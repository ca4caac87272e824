// Where a run stands: the steps done and what they counted.
namespace DistClip.Coordinator;

/// <summary>
/// The coordinator's position in a run after <paramref name="Steps"/> completed steps, and its counters: what a
/// checkpoint records beside the master state, and where a resumed run starts.
/// </summary>
/// <param name="Steps">Completed steps (taken or skipped): the next step's number.</param>
/// <param name="Version">Parameter version: the steps taken.</param>
public sealed record RunCounters(long Steps, long Version, long Skipped, long Clipped, long Samples)
{
    /// <summary>A fresh run.</summary>
    public static RunCounters Start { get; } = new(0, 0, 0, 0, 0);
}
