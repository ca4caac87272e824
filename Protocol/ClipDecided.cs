// A message of the sharded step (docs/ARCHITECTURE.md, "The sharded step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → every worker of a sharded step: the clip decision over the true global norm (a few bytes). Each worker
/// applies it to its replica of the reduced gradient and steps; a non-finite <paramref name="PreClipNorm"/> skips the
/// step. No worker ever forms a global coefficient of its own.
/// </summary>
[MessagePackObject]
public sealed record ClipDecided(
    [property: Key(0)] long Step,
    [property: Key(1)] long Plan,
    [property: Key(2)] float PreClipNorm,
    [property: Key(3)] float Coefficient,
    [property: Key(4)] double Threshold) : IWireMessage;
