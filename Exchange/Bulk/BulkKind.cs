// What a bulk frame carries.
using DistClip.Protocol;

namespace DistClip.Exchange.Bulk;

/// <summary>What a bulk frame carries.</summary>
public enum BulkKind : byte
{
    /// <summary>A <see cref="ShardGradients"/>, worker → coordinator.</summary>
    Gradients = 1,
    /// <summary>A <see cref="ParameterUpdate"/>, coordinator → worker.</summary>
    Parameters = 2,
    /// <summary>The sharded exchange: one range of a shard's gradient sum, worker → the range's owner (a peer).</summary>
    ShardRange = 3,
    /// <summary>The sharded exchange: one range of the reduced (mean, not yet clipped) gradient, its owner → every other worker and the coordinator.</summary>
    ReducedRange = 4,
    /// <summary>
    /// The sharded exchange: one piece of the whole training state (<c>StateBundle</c>'s bytes), coordinator → a worker whose
    /// replica is not at the step (<see cref="StatePieces"/>): what would clog Akka.Remote's connection, and its heartbeats.
    /// </summary>
    State = 5,
}
