// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>Worker → coordinator: a worker actor on <paramref name="Device"/> wants to take part.</summary>
[MessagePackObject]
public sealed record JoinRequest(
    [property: Key(0)] string WorkerName,
    [property: Key(1)] string Device,
    [property: Key(2)] int Protocol) : IWireMessage;
