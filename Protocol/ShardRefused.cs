// A message of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>Worker → coordinator: the shard could not be computed (for example a stale parameter version).</summary>
[MessagePackObject]
public sealed record ShardRefused(
    [property: Key(0)] long Step,
    [property: Key(1)] int Shard,
    [property: Key(2)] string Reason) : IWireMessage;
