// One message of the bulk channel, before framing and after.
using DistClip.Protocol;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// One gradient or parameter transfer on the bulk channel. <paramref name="Token"/> is the run's
/// secret (handed out in <see cref="JobOffer"/>): frames with another token are dropped.
/// <paramref name="From"/> names the sending worker (its <see cref="RegisterWorker.WorkerName"/>).
/// </summary>
public sealed record BulkMessage(BulkKind Kind, long Token, string From, long Step, long Version, int Shard, int SampleCount, double LossSum, float[] Values)
{
    public ShardGradients AsGradients() => new(Step, Version, Shard, SampleCount, LossSum, Values);
    public ParameterUpdate AsParameters() => new(Version, Values);

    public static BulkMessage Of(ShardGradients g, long token, string from) => new(BulkKind.Gradients, token, from, g.Step, g.Version, g.Shard, g.SampleCount, g.LossSum, g.GradientSum);
    public static BulkMessage Of(ParameterUpdate u, long token, string from) => new(BulkKind.Parameters, token, from, 0, u.Version, 0, 0, 0, u.Values);
}
