// The messages that carry gradients and parameters: actors hand them to their exchange link, unopened.
namespace DistClip.Protocol;

/// <summary>
/// A gradient or parameter transfer in one of its forms — whole by reference, a chunk, a bulk-channel
/// arrival, a note that shared memory holds it. Actors route every such message to their end of the
/// exchange (<c>WorkerLinks</c>, <c>CoordinatorLink</c>) and get back a shard sum or a
/// parameter version; they never look inside.
/// </summary>
public interface IDataPlaneMessage;
