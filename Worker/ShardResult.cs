// One shard's gradient sum, in canonical flat order.
namespace DistClip.Worker;

/// <summary>The gradient sum over one shard, in canonical flat order.</summary>
public sealed record ShardResult(int SampleCount, double LossSum, float[] GradientSum);
