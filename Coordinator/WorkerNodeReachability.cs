// What the cluster's failure detector says of a worker node, told to the coordinator before membership decides.
using Akka.Actor;

namespace DistClip.Coordinator;

/// <summary>
/// A node's reachability: its remote connection ended (at once when its process dies) or the failure detector gave up
/// on it (a few seconds after a link is cut), well before the split-brain resolver removes the node. Unreachable: the coordinator re-plans the shards of
/// that node's workers at once. Reachable again: those workers are asked to join again.
/// </summary>
public sealed record WorkerNodeReachability(Address Node, bool Reachable);
