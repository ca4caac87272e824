// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>Worker → coordinator: <see cref="JoinSecret.Proof"/> of the challenge's nonce and the worker's name (the secret never travels).</summary>
[MessagePackObject]
public sealed record JoinProof([property: Key(0)] string WorkerName, [property: Key(1)] byte[] Mac) : IWireMessage;
