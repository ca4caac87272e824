// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>Coordinator → worker: not admitted, with the reason in one sentence.</summary>
[MessagePackObject]
public sealed record WorkerRefused([property: Key(0)] string Reason) : IWireMessage;
