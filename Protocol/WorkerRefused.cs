// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker: not admitted, with the reason in one sentence — or, when <paramref name="Removed"/>, removed from
/// the run it was serving (its shards were faulty): the first is the worker's configuration, the second a fault at run time.
/// </summary>
[MessagePackObject]
public sealed record WorkerRefused([property: Key(0)] string Reason, [property: Key(1)] bool Removed = false) : IWireMessage;
