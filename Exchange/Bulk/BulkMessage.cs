// One message of the bulk channel, before framing and after.
using DistClip.Protocol;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// One gradient or parameter transfer on the bulk channel. <paramref name="Token"/> is the worker's (handed out in its
/// <see cref="JobOffer"/>, see <see cref="BulkTokens"/>): a frame under a token the receiver does not accept is refused from
/// its header, and the coordinator attributes the frame to the worker whose token it is. A frame carries no sender name.
/// A frame carries its range: <see cref="Values"/> are elements [<see cref="Offset"/>, <see cref="Offset"/> + length) of
/// the exchange vector (a whole vector has offset 0 and the vector's length).
/// </summary>
public sealed record BulkMessage(BulkKind Kind, long Token, long Step, long Version, int Shard, int SampleCount, double LossSum, float[] Values)
{
    /// <summary>Where <see cref="Values"/> start in the exchange vector.</summary>
    public int Offset { get; init; }

    /// <summary>The sharded step's attempt (<see cref="StepRanges.Plan"/>) a range belongs to; 0 for the central kinds.</summary>
    public long Plan { get; init; }

    public ShardGradients AsGradients() => new(Step, Version, Shard, SampleCount, LossSum, Values);
    public ParameterUpdate AsParameters() => new(Version, Values);

    public static BulkMessage Of(ShardGradients g, long token) => new(BulkKind.Gradients, token, g.Step, g.Version, g.Shard, g.SampleCount, g.LossSum, g.GradientSum);
    public static BulkMessage Of(ParameterUpdate u, long token) => new(BulkKind.Parameters, token, 0, u.Version, 0, 0, 0, u.Values);
}
