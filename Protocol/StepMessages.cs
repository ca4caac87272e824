// The messages of one training step (see DESIGN.md, "One training step").
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
public sealed record ComputeGradients(long Step, long Version, int Shard, int[] SampleIndices);

/// <summary>
/// Worker → coordinator: the summed gradient of one shard, flattened in the model's canonical
/// parameter order (<see cref="FlatParameters"/>). Inside one process the array travels by reference.
/// </summary>
/// <param name="LossSum">Sum over the shard's samples of the per-sample loss.</param>
/// <param name="GradientSum">Σ over samples of ∂loss_i/∂θ, float32, one entry per parameter element.</param>
public sealed record ShardGradients(long Step, long Version, int Shard, int SampleCount, double LossSum, float[] GradientSum);

/// <summary>Worker → coordinator: the shard could not be computed (for example a stale parameter version).</summary>
public sealed record ShardRefused(long Step, int Shard, string Reason);

/// <summary>
/// Coordinator → workers: the master parameters after a step (or at admission), flattened in canonical
/// order. Workers load them before computing any step at <paramref name="Version"/>.
/// </summary>
public sealed record ParameterUpdate(long Version, float[] Values);
