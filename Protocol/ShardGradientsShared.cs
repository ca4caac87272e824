// A message of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator on the same host: the shard's result, whose gradient sum is in the worker's
/// shared gradient segment number <paramref name="Slot"/> (<see cref="RegisterWorker.SharedMemoryPath"/>) published
/// under <paramref name="Step"/> instead of in the message. A worker writes each slot at most once per step, so a
/// slot is not rewritten before the coordinator has reduced it; results beyond its slots travel whole.
/// </summary>
[MessagePackObject]
public sealed record ShardGradientsShared(
    [property: Key(0)] long Step,
    [property: Key(1)] long Version,
    [property: Key(2)] int Shard,
    [property: Key(3)] int SampleCount,
    [property: Key(4)] double LossSum,
    [property: Key(5)] int Slot = 0) : IWireMessage, IDataPlaneMessage;
