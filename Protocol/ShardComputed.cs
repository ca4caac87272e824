// A message of the sharded step (docs/ARCHITECTURE.md, "The sharded step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator in the sharded exchange: shard <paramref name="Shard"/> of plan <paramref name="Plan"/> is computed and
/// its ranges are on their way to their owners. The gradient itself never comes to the coordinator; its loss sum and
/// whether every element was finite do.
/// </summary>
[MessagePackObject]
public sealed record ShardComputed(
    [property: Key(0)] long Step,
    [property: Key(1)] long Plan,
    [property: Key(2)] int Shard,
    [property: Key(3)] int SampleCount,
    [property: Key(4)] double LossSum,
    [property: Key(5)] bool Finite) : IWireMessage;
