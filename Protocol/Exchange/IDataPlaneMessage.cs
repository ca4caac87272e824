// The messages that carry gradients and parameters: actors hand them to their exchange link, unopened.
namespace DistClip.Protocol.Exchange;

/// <summary>
/// A gradient or parameter transfer in one of its forms — whole by reference, a chunk, a bulk-channel
/// arrival, a note that shared memory holds it. Actors route every such message to their end of the
/// exchange (<see cref="WorkerLinks"/>, <see cref="CoordinatorLink"/>) and get back a shard sum or a
/// parameter version; they never look inside.
/// </summary>
public interface IDataPlaneMessage;
