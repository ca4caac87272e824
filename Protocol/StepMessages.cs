// The messages of one training step (docs/ARCHITECTURE.md, "One training step").
using MessagePack;
using DistClip.Core;

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

/// <summary>Worker → coordinator: the shard could not be computed (for example a stale parameter version).</summary>
[MessagePackObject]
public sealed record ShardRefused(
    [property: Key(0)] long Step,
    [property: Key(1)] int Shard,
    [property: Key(2)] string Reason) : IWireMessage;

/// <summary>
/// Coordinator → workers: the master parameters after a step (or at admission), flattened in canonical
/// order. Workers load them before computing any step at <paramref name="Version"/>. Between processes
/// it travels as <see cref="ParameterChunk"/>s.
/// </summary>
[MessagePackObject]
public sealed record ParameterUpdate(
    [property: Key(0)] long Version,
    [property: Key(1)] float[] Values) : IWireMessage, IDataPlaneMessage;

/// <summary>
/// Worker → coordinator on the same host: the shard's result, whose gradient sum is in the worker's
/// shared segment (<see cref="RegisterWorker.SharedMemoryPath"/>) published under <paramref name="Step"/>
/// instead of in the message. A worker sends at most one such result per step, so the segment is not
/// rewritten before the coordinator has reduced it; further results of the same step travel whole.
/// </summary>
[MessagePackObject]
public sealed record ShardGradientsShared(
    [property: Key(0)] long Step,
    [property: Key(1)] long Version,
    [property: Key(2)] int Shard,
    [property: Key(3)] int SampleCount,
    [property: Key(4)] double LossSum) : IWireMessage, IDataPlaneMessage;

/// <summary>
/// Coordinator → worker on the same host: the parameters of <paramref name="Version"/> are in the
/// coordinator's shared segment (<see cref="JobOffer.SharedMemoryPath"/>). The worker copies them into
/// its replica if the segment still holds that version when it has finished copying. Sent at admission
/// and after a refusal; after a step no message is needed: a <see cref="ComputeGradients"/> of a newer
/// version tells the worker to load that version from the segment.
/// </summary>
[MessagePackObject]
public sealed record ParametersShared([property: Key(0)] long Version) : IWireMessage, IDataPlaneMessage;
