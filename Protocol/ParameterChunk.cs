// One chunk of a parameter vector sent through Akka.Remote.
using MessagePack;

namespace DistClip.Protocol;

/// <summary>One piece of a <see cref="ParameterUpdate"/>, laid out like <see cref="GradientChunk"/>.</summary>
[MessagePackObject]
public sealed record ParameterChunk(
    [property: Key(0)] long Version,
    [property: Key(1)] int ElementCount,
    [property: Key(2)] int ChunkCount,
    [property: Key(3)] int Offset,
    [property: Key(4)] byte[] Data) : IWireMessage, IDataPlaneMessage;
