// What a worker is told about the job when it joins: the model to build and the data to read.
using MessagePack;
using DistClip.Core;

namespace DistClip.Protocol;

/// <summary>
/// The part of the training configuration a worker needs. Workers read <paramref name="Dataset"/> from
/// their own local copy; the coordinator never ships data.
/// </summary>
/// <param name="Model">The model every replica builds.</param>
/// <param name="Dataset">Data set name (fashion-mnist, mnist, synthetic).</param>
/// <param name="DataSeed">Seed of synthetic data.</param>
/// <param name="TrainSamples">Use only the first N training samples (null: all).</param>
/// <param name="MicroBatch">Largest forward/backward pass on one worker.</param>
/// <param name="Augmentation">Training-time augmentation (seeded by <paramref name="DataSeed"/>, epoch and sample index).</param>
/// <param name="Sharded">The sharded exchange's replica configuration: workers step replicas of their own; null: the central exchange.</param>
/// <param name="DataChallenge">Sample indices whose hash a worker returns at registration, to show its copy of the data is the coordinator's (DataFingerprint in Models); null: none asked.</param>
[MessagePackObject]
public sealed record JobSpec(
    [property: Key(0)] ModelSpec Model,
    [property: Key(1)] string Dataset,
    [property: Key(2)] int DataSeed,
    [property: Key(3)] int? TrainSamples,
    [property: Key(4)] int MicroBatch,
    [property: Key(5)] Augmentation? Augmentation = null,
    [property: Key(6)] int[]? DataChallenge = null,
    [property: Key(7)] ReplicaSpec? Sharded = null);
