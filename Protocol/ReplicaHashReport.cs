// A message of the sharded step (docs/ARCHITECTURE.md, "The sharded step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator in the sharded exchange, after a step whose plan asked for it (<see cref="StepRanges.CheckReplica"/>):
/// the hash of its replica (<c>ReplicaHash</c>: version, weights, statistics, average) after <paramref name="Steps"/> steps.
/// The coordinator compares it with its own and the other workers'; a replica outside the majority is removed.
/// </summary>
[MessagePackObject]
public sealed record ReplicaHashReport(
    [property: Key(0)] long Steps,
    [property: Key(1)] string Hash) : IWireMessage;
