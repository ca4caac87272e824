// A message of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker on the same host: the parameters of <paramref name="Version"/> are in the
/// coordinator's shared segment (<see cref="JobOffer.SharedMemoryPath"/>). The worker copies them into
/// its replica if the segment still holds that version when it has finished copying. Sent at admission
/// and after a refusal; after a step no message is needed: a <see cref="ComputeGradients"/> of a newer
/// version tells the worker to load that version from the segment.
/// </summary>
[MessagePackObject]
public sealed record ParametersShared([property: Key(0)] long Version) : IWireMessage, IDataPlaneMessage;
