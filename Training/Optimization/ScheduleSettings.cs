// The learning-rate schedule a run uses, as plain values.
namespace DistClip.Training.Optimization;

/// <summary>Learning-rate schedule, stepped once per optimizer step. The defaults are the run's defaults.</summary>
/// <param name="Kind">constant, step (×Gamma every StepSize steps) or cosine (to MinLearningRate at the last step; the default).</param>
/// <param name="WarmupSteps">Linear warm-up from 1/WarmupSteps of the base rate over this many steps; 0 for none.</param>
public sealed record ScheduleSettings(string Kind = "cosine", int WarmupSteps = 0, int StepSize = 1000, double Gamma = 0.1, double MinLearningRate = 0.0)
{
    public static IReadOnlyList<string> Kinds { get; } = ["constant", "step", "cosine"];

    // Each value is checked where it is set — by the constructor and by `with` alike — naming the option that sets it.
    private readonly string _kind = Known(Kind);
    private readonly int _warmupSteps = AtLeast(WarmupSteps, 0, "--warmup-steps");
    private readonly int _stepSize = AtLeast(StepSize, 1, "--lr-step-size");

    public string Kind { get => _kind; init => _kind = Known(value); }
    public int WarmupSteps { get => _warmupSteps; init => _warmupSteps = AtLeast(value, 0, "--warmup-steps"); }
    public int StepSize { get => _stepSize; init => _stepSize = AtLeast(value, 1, "--lr-step-size"); }

    private static string Known(string kind) =>
        Kinds.Contains(kind) ? kind : throw new ArgumentException($"--lr-schedule must be one of {string.Join(", ", Kinds)} (got '{kind}').");

    private static int AtLeast(int value, int least, string option) =>
        value >= least ? value : throw new ArgumentException($"{option} must be at least {least} (got {value}).");
}
