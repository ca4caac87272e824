// A message of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;
using DistClip.Core;

namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator: the summed gradient of one shard, flattened in the model's canonical
/// parameter order (<see cref="FlatParameters"/>). Inside one process the array travels by reference;
/// between processes as <see cref="GradientChunk"/>s.
/// </summary>
/// <param name="LossSum">Sum over the shard's samples of the per-sample loss.</param>
/// <param name="GradientSum">Σ over samples of ∂loss_i/∂θ, float32, one entry per parameter element.</param>
[MessagePackObject]
public sealed record ShardGradients(
    [property: Key(0)] long Step,
    [property: Key(1)] long Version,
    [property: Key(2)] int Shard,
    [property: Key(3)] int SampleCount,
    [property: Key(4)] double LossSum,
    [property: Key(5)] float[] GradientSum) : IWireMessage, IDataPlaneMessage;
