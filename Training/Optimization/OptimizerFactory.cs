// Builds the optimizers (TorchSharp's, with their scalars held) and TorchSharp's learning-rate schedulers from settings.
using TorchSharp.Modules;
using static TorchSharp.torch.optim;

namespace DistClip.Training.Optimization;

/// <summary>Maps <see cref="OptimizerSettings"/> and <see cref="ScheduleSettings"/> onto TorchSharp's classes (the optimizers through <see cref="Sgd"/>, <see cref="Adam"/>, <see cref="AdamW"/>).</summary>
public static class OptimizerFactory
{
    public static OptimizerHelper Create(IEnumerable<Parameter> parameters, OptimizerSettings s) => s.Name switch
    {
        "sgd" => new Sgd(parameters, s.LearningRate, s.Momentum, dampening: 0.0, s.WeightDecay, s.Nesterov),
        "adam" => new Adam(parameters, s.LearningRate, s.WeightDecay),
        "adamw" => new AdamW(parameters, s.LearningRate, s.WeightDecay),
        _ => throw new ArgumentException($"Unknown optimizer '{s.Name}'; known optimizers: {string.Join(", ", OptimizerSettings.Names)}."),
    };

    /// <summary>
    /// The scheduler for <paramref name="totalSteps"/> optimizer steps: the chosen schedule, preceded by a
    /// LinearLR warm-up (TorchSharp's SequentialLR) when <see cref="ScheduleSettings.WarmupSteps"/> &gt; 0.
    /// </summary>
    public static lr_scheduler.LRScheduler CreateSchedule(Optimizer optimizer, ScheduleSettings s, long totalSteps)
    {
        int warmup = s.WarmupSteps;
        int afterWarmup = (int)Math.Max(1, totalSteps - warmup);
        lr_scheduler.LRScheduler main = s.Kind switch
        {
            "constant" => lr_scheduler.LambdaLR(optimizer, _ => 1.0),
            "step" => lr_scheduler.StepLR(optimizer, s.StepSize, s.Gamma),
            "cosine" => lr_scheduler.CosineAnnealingLR(optimizer, afterWarmup, s.MinLearningRate),
            _ => throw new ArgumentException($"Unknown learning-rate schedule '{s.Kind}'; known schedules: {string.Join(", ", ScheduleSettings.Kinds)}."),
        };
        if (warmup <= 0) return main;
        var ramp = lr_scheduler.LinearLR(optimizer, 1.0 / warmup, 1.0, warmup);
        return lr_scheduler.SequentialLR(optimizer, [ramp, main], [warmup]);
    }
}
