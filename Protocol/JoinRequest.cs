// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator: a worker actor on <paramref name="Device"/> wants to take part. A worker that knows the
/// cluster's join secret sends a fresh <paramref name="Nonce"/>: the coordinator's offer must prove the secret over it
/// (<see cref="JobOffer.CoordinatorProof"/>), so that a stranger cannot pose as the coordinator.
/// </summary>
[MessagePackObject]
public sealed record JoinRequest(
    [property: Key(0)] string WorkerName,
    [property: Key(1)] string Device,
    [property: Key(2)] int Protocol,
    [property: Key(3)] byte[]? Nonce = null) : IWireMessage;
