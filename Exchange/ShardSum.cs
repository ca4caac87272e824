// One shard's result as the reducer reads it, wherever its gradient lives.
using DistClip.Protocol;

namespace DistClip.Exchange;

/// <summary>
/// A shard result as the coordinator's reducer takes it: the fields
/// of <see cref="ShardGradients"/>, with the gradient sum as memory so that it can be an array that
/// arrived in a message or a worker's shared segment on the coordinator's host, read in place.
/// </summary>
public readonly record struct ShardSum(long Step, long Version, int Shard, int SampleCount, double LossSum, ReadOnlyMemory<float> GradientSum)
{
    public static implicit operator ShardSum(ShardGradients g) => new(g.Step, g.Version, g.Shard, g.SampleCount, g.LossSum, g.GradientSum);
}
