// A message of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker: compute the gradient SUM (not mean) of the loss over <paramref name="SampleIndices"/>
/// using parameters of version <paramref name="Version"/>. A worker answers with exactly one
/// <see cref="ShardGradients"/>, or with <see cref="ShardRefused"/> when it cannot.
/// </summary>
/// <param name="Step">Global step number (0-based), identifies the step together with the version.</param>
/// <param name="Version">Parameter version the gradient must be computed at.</param>
/// <param name="Shard">Index of this shard within the step's plan; reduction runs in shard order.</param>
/// <param name="SampleIndices">Indices into the training split; read-only by convention.</param>
/// <param name="Epoch">The epoch of the step (augmentation draws depend on it).</param>
[MessagePackObject]
public sealed record ComputeGradients(
    [property: Key(0)] long Step,
    [property: Key(1)] long Version,
    [property: Key(2)] int Shard,
    [property: Key(3)] int[] SampleIndices,
    [property: Key(4)] int Epoch = 0) : IWireMessage;
