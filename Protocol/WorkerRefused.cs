// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker: not admitted, with the reason in one sentence — or, when <paramref name="Removed"/>, removed from
/// the run it was serving (its shards were faulty). A refusal is the worker's configuration, unless <paramref name="Transient"/>
/// (its name still held by an earlier incarnation): that one, like a removal, is a fault at run time that a retry may clear.
/// </summary>
[MessagePackObject]
public sealed record WorkerRefused([property: Key(0)] string Reason, [property: Key(1)] bool Removed = false, [property: Key(2)] bool Transient = false) : IWireMessage
{
    /// <summary>Whether trying again may help (a removal, a transient refusal), rather than the worker's configuration.</summary>
    [IgnoreMember]
    public bool AtRunTime => Removed || Transient;
}
