// The optimizer and learning-rate schedule a run uses, as plain values.
namespace DistClip.Coordinator.Optimization;

/// <summary>Optimizer hyper-parameters (TorchSharp's SGD, Adam and AdamW).</summary>
/// <param name="Name">sgd, adam or adamw.</param>
/// <param name="LearningRate">Base learning rate.</param>
/// <param name="Momentum">SGD momentum.</param>
/// <param name="Nesterov">SGD Nesterov momentum.</param>
/// <param name="WeightDecay">L2 penalty (sgd, adam) or decoupled decay (adamw).</param>
public sealed record OptimizerSettings(string Name = "sgd", double LearningRate = 0.05, double Momentum = 0.9, bool Nesterov = false, double WeightDecay = 0.0)
{
    public static IReadOnlyList<string> Names { get; } = ["sgd", "adam", "adamw"];
}

/// <summary>Learning-rate schedule, stepped once per optimizer step.</summary>
/// <param name="Kind">constant, step (×Gamma every StepSize steps) or cosine (to MinLearningRate at the last step).</param>
/// <param name="WarmupSteps">Linear warm-up from 1/WarmupSteps of the base rate over this many steps; 0 for none.</param>
public sealed record ScheduleSettings(string Kind = "constant", int WarmupSteps = 0, int StepSize = 1000, double Gamma = 0.1, double MinLearningRate = 0.0)
{
    public static IReadOnlyList<string> Kinds { get; } = ["constant", "step", "cosine"];
}
