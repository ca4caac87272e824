// The learning-rate schedule a run uses, as plain values.
namespace DistClip.Coordinator.Optimization;

/// <summary>Learning-rate schedule, stepped once per optimizer step. The defaults are the run's defaults.</summary>
/// <param name="Kind">constant, step (×Gamma every StepSize steps) or cosine (to MinLearningRate at the last step; the default).</param>
/// <param name="WarmupSteps">Linear warm-up from 1/WarmupSteps of the base rate over this many steps; 0 for none.</param>
public sealed record ScheduleSettings(string Kind = "cosine", int WarmupSteps = 0, int StepSize = 1000, double Gamma = 0.1, double MinLearningRate = 0.0)
{
    public static IReadOnlyList<string> Kinds { get; } = ["constant", "step", "cosine"];
}
