// A message of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → workers: the master parameters after a step (or at admission), flattened in canonical
/// order. Workers load them before computing any step at <paramref name="Version"/>. Between processes
/// it travels as <see cref="ParameterChunk"/>s.
/// </summary>
[MessagePackObject]
public sealed record ParameterUpdate(
    [property: Key(0)] long Version,
    [property: Key(1)] float[] Values) : IWireMessage, IDataPlaneMessage;
