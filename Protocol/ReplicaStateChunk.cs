// The whole training state, to a worker that steps a replica of its own (the sharded exchange).
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker in the sharded exchange, when the worker takes part in a step for the first time (or was found
/// behind): one piece of the replica's whole state — weights, optimizer state, moving average, as a checkpoint holds
/// them — at version <paramref name="Version"/> after <paramref name="Steps"/> steps. <paramref name="Data"/> is bytes
/// [<paramref name="Offset"/>, +length) of a <paramref name="TotalBytes"/>-byte bundle of the state's files.
/// </summary>
[MessagePackObject]
public sealed record ReplicaStateChunk(
    [property: Key(0)] long Version,
    [property: Key(1)] long Steps,
    [property: Key(2)] int TotalBytes,
    [property: Key(3)] int Offset,
    [property: Key(4)] byte[] Data) : IWireMessage;
