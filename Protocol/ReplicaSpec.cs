// What a worker needs to step a replica of its own: the sharded exchange's optimizer, schedule, clip policy and average.
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// In the sharded exchange every worker clips and steps a full replica of the training state with the coordinator's
/// arithmetic (docs/ARCHITECTURE.md, "The sharded step"): this is the configuration of that replica, as plain values
/// (the worker turns them back into its Training settings). Its presence in <see cref="JobSpec.Sharded"/> is what makes
/// a job sharded.
/// </summary>
/// <param name="Clip">The clip policy's spec (<c>ClipPolicy.Parse</c> reads it back).</param>
/// <param name="EmaDecay">The moving average's decay; null for none.</param>
[MessagePackObject]
public sealed record ReplicaSpec(
    [property: Key(0)] string Optimizer,
    [property: Key(1)] double LearningRate,
    [property: Key(2)] double Momentum,
    [property: Key(3)] bool Nesterov,
    [property: Key(4)] double WeightDecay,
    [property: Key(5)] string Schedule,
    [property: Key(6)] int WarmupSteps,
    [property: Key(7)] int StepSize,
    [property: Key(8)] double Gamma,
    [property: Key(9)] double MinLearningRate,
    [property: Key(10)] long TotalSteps,
    [property: Key(11)] string Clip,
    [property: Key(12)] double? EmaDecay = null);
