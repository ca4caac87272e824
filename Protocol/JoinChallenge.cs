// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker, when the cluster has a join secret: prove you know it. The worker answers with a
/// <see cref="JoinProof"/> over <paramref name="Nonce"/>; until then it is told nothing of the run.
/// </summary>
[MessagePackObject]
public sealed record JoinChallenge([property: Key(0)] byte[] Nonce) : IWireMessage;
