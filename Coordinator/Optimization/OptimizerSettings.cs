// The optimizer and learning-rate schedule a run uses, as plain values.
namespace DistClip.Coordinator.Optimization;

/// <summary>Optimizer hyper-parameters (TorchSharp's SGD, Adam and AdamW). The defaults are the run's defaults (the one place they live).</summary>
/// <param name="Name">sgd, adam or adamw: SGD with momentum.</param>
/// <param name="LearningRate">Base learning rate: 0.04, which with the cosine schedule and batch 32 reaches 0.86–0.87 on Fashion-MNIST in an epoch (docs/DECISIONS.md).</param>
/// <param name="Momentum">SGD momentum.</param>
/// <param name="Nesterov">SGD Nesterov momentum: off.</param>
/// <param name="WeightDecay">L2 penalty (sgd, adam) or decoupled decay (adamw): none.</param>
public sealed record OptimizerSettings(string Name = "sgd", double LearningRate = 0.04, double Momentum = 0.9, bool Nesterov = false, double WeightDecay = 0.0)
{
    public static IReadOnlyList<string> Names { get; } = ["sgd", "adam", "adamw"];
}

