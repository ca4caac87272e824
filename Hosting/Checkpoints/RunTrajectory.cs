// The settings a run's result depends on, as option names and values.
using System.Globalization;

namespace DistClip.Hosting.Checkpoints;

/// <summary>
/// Every setting that defines a run's trajectory (its parameters after each step), keyed by the option that sets
/// it, valued as that option takes it. A checkpoint records it; a resumed run must have the same. Outputs (where
/// weights, metrics and checkpoints go), the workers present and the threads do not count.
/// </summary>
public static class RunTrajectory
{
    /// <summary>The options that set what <see cref="Of"/> records: a command line may not contradict a checkpoint on them.</summary>
    public static IReadOnlyList<string> Options { get; } =
    [
        "model", "hidden", "dataset", "train-samples", "global-batch", "micro-batch", "shards", "steps", "epochs", "seed", "no-shuffle",
        "clip", "nonfinite", "optimizer", "lr", "momentum", "nesterov", "weight-decay", "lr-schedule", "warmup-steps", "lr-step-size",
        "lr-gamma", "ema", "augment",
    ];

    /// <summary>The trajectory of <paramref name="s"/> run with <paramref name="shards"/> shards a step; unset options are absent.</summary>
    public static SortedDictionary<string, string> Of(TrainingSettings s, int shards)
    {
        var o = s.Optimizer;
        var lr = s.Schedule;
        var values = new Dictionary<string, object?>
        {
            ["model"] = s.Model, ["hidden"] = s.Hidden, ["dataset"] = s.Dataset, ["train-samples"] = s.TrainSamples,
            ["global-batch"] = s.GlobalBatch, ["micro-batch"] = s.MicroBatch, ["shards"] = shards, ["steps"] = s.Steps, ["epochs"] = s.Epochs,
            ["seed"] = s.Seed, ["no-shuffle"] = !s.Shuffle, ["clip"] = s.Clip.ToString(), ["nonfinite"] = s.NonFinite.ToString().ToLowerInvariant(),
            ["optimizer"] = o.Name, ["lr"] = o.LearningRate, ["momentum"] = o.Momentum, ["nesterov"] = o.Nesterov, ["weight-decay"] = o.WeightDecay,
            ["lr-schedule"] = lr.Kind, ["warmup-steps"] = lr.WarmupSteps, ["lr-step-size"] = lr.StepSize, ["lr-gamma"] = lr.Gamma,
            ["ema"] = s.EmaDecay, ["augment"] = s.Augmentation.IsNone ? null : s.Augmentation.ToString(),
        };
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
            if (value is not null) result[key] = value switch
            {
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString()!,
            };
        return result;
    }

    /// <summary>The first option on which <paramref name="actual"/> contradicts <paramref name="recorded"/>, in one sentence; null when none does.</summary>
    public static string? Contradiction(IReadOnlyDictionary<string, string> recorded, IReadOnlyDictionary<string, string> actual)
    {
        foreach (var key in Options)
        {
            recorded.TryGetValue(key, out var then);
            actual.TryGetValue(key, out var now);
            if (then != now)
                return $"--{key} {now ?? "(unset)"} contradicts the checkpoint, whose run has {then ?? "it unset"}; a resumed run keeps its configuration (drop the option, or start a new run)";
        }
        return null;
    }
}
