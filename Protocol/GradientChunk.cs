// One chunk of a shard's gradients sent through Akka.Remote.
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// One piece of a <see cref="ShardGradients"/>: elements [Offset, Offset + Data.Length/4) of the
/// gradient as raw little-endian float32 bytes, with the shard's metadata repeated so that any chunk
/// identifies its transfer.
/// </summary>
[MessagePackObject]
public sealed record GradientChunk(
    [property: Key(0)] long Step,
    [property: Key(1)] long Version,
    [property: Key(2)] int Shard,
    [property: Key(3)] int SampleCount,
    [property: Key(4)] double LossSum,
    [property: Key(5)] int ElementCount,
    [property: Key(6)] int ChunkCount,
    [property: Key(7)] int Offset,
    [property: Key(8)] byte[] Data) : IWireMessage, IDataPlaneMessage;

