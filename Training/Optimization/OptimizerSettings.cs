// The optimizer and learning-rate schedule a run uses, as plain values.
namespace DistClip.Training.Optimization;

/// <summary>Optimizer hyper-parameters (TorchSharp's SGD, Adam and AdamW). The defaults are the run's defaults (the one place they live).</summary>
/// <param name="Name">sgd, adam or adamw: SGD with momentum.</param>
/// <param name="LearningRate">Base learning rate: 0.04, which with the cosine schedule and batch 32 reaches 0.86–0.87 on Fashion-MNIST in an epoch (docs/DECISIONS.md).</param>
/// <param name="Momentum">SGD momentum.</param>
/// <param name="Nesterov">SGD Nesterov momentum: off.</param>
/// <param name="WeightDecay">L2 penalty (sgd, adam) or decoupled decay (adamw): none.</param>
public sealed record OptimizerSettings(string Name = "sgd", double LearningRate = 0.04, double Momentum = 0.9, bool Nesterov = false, double WeightDecay = 0.0)
{
    public static IReadOnlyList<string> Names { get; } = ["sgd", "adam", "adamw"];

    // Each value is checked where it is set — by the constructor and by `with` alike — naming the option that sets it.
    private readonly string _name = Known(Name);
    private readonly double _learningRate = Positive(LearningRate);
    private readonly double _momentum = NonNegative(Momentum, "--momentum");
    private readonly double _weightDecay = NonNegative(WeightDecay, "--weight-decay");

    public string Name { get => _name; init => _name = Known(value); }
    public double LearningRate { get => _learningRate; init => _learningRate = Positive(value); }
    public double Momentum { get => _momentum; init => _momentum = NonNegative(value, "--momentum"); }
    public double WeightDecay { get => _weightDecay; init => _weightDecay = NonNegative(value, "--weight-decay"); }

    private static string Known(string name) =>
        Names.Contains(name) ? name : throw new ArgumentException($"--optimizer must be one of {string.Join(", ", Names)} (got '{name}').");

    private static double Positive(double lr) =>
        lr > 0 && double.IsFinite(lr) ? lr : throw new ArgumentException($"--lr must be a positive number (got {lr}).");

    private static double NonNegative(double value, string option) =>
        value >= 0 && double.IsFinite(value) ? value : throw new ArgumentException($"{option} must be a non-negative number (got {value}).");
}

