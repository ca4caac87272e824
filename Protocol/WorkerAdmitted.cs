// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker: admitted at parameter version <paramref name="Version"/>; the parameters
/// follow as a <see cref="ParameterUpdate"/> (chunked when remote) or a <see cref="ParametersShared"/>.
/// <paramref name="SharedMemory"/>: the coordinator mapped the worker's gradient segment, and the two
/// exchange through shared memory from now on.
/// </summary>
[MessagePackObject]
public sealed record WorkerAdmitted(
    [property: Key(0)] long Version,
    [property: Key(1)] bool SharedMemory = false) : IWireMessage;
