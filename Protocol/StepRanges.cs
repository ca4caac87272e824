// A message of the sharded step (docs/ARCHITECTURE.md, "The sharded step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → every worker of a sharded step, before its <see cref="ComputeGradients"/>: the step's plan. Range k of
/// the exchange vector (<c>RangePlan.Balanced</c> over <see cref="Owners"/>' count) is reduced by owner k; the recipient
/// is owner <paramref name="You"/>. <paramref name="Plan"/> names this attempt of the step: a step planned again (a
/// worker lost, a deadline passed) gets a new one, and anything of an older plan is dropped.
/// <paramref name="ShardSamples"/> are the step's shard sizes, in shard order (an owner adds the shards' ranges in that
/// order and divides by their total). <paramref name="AcceptTokens"/>[k] is the token under which this recipient accepts
/// frames from owner k (its proof, issued by the coordinator for that pair only); each owner's
/// <see cref="RangeOwner.SendToken"/> is the token this recipient sends to it under. With <paramref name="CheckReplica"/> the
/// recipient reports its replica's hash after the step (<see cref="ReplicaHashReport"/>).
/// </summary>
[MessagePackObject]
public sealed record StepRanges(
    [property: Key(0)] long Step,
    [property: Key(1)] long Plan,
    [property: Key(2)] long Version,
    [property: Key(3)] int You,
    [property: Key(4)] int[] ShardSamples,
    [property: Key(5)] RangeOwner[] Owners,
    [property: Key(6)] long[] AcceptTokens,
    [property: Key(7)] bool CheckReplica = false) : IWireMessage;

/// <summary>
/// One owner of a sharded step: its actor (<paramref name="Path"/>, how in-process peers reach it), its bulk endpoint
/// (null inside one process) and the token the recipient of the plan sends to it under.
/// </summary>
[MessagePackObject]
public sealed record RangeOwner(
    [property: Key(0)] string Path,
    [property: Key(1)] string? Endpoint,
    [property: Key(2)] long SendToken);
