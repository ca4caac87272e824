// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;
using DistClip.Core;

namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator: the replica is built. <paramref name="Signature"/> identifies its architecture
/// (parameter names and shapes) so that a mismatched replica is refused. <paramref name="BulkEndpoint"/>
/// is where a remote coordinator sends it parameters (null inside one process). <paramref name="SharedMemoryPath"/>
/// names the worker's first shared gradient segment when it could open the coordinator's (same host);
/// <paramref name="SharedMemorySlots"/> says how many it has (slot i &gt; 0 is <c>SharedMemoryPath-i</c>), one per shard
/// of a step it can return in place (a worker may compute several shards of a step). <paramref name="Compute"/> says what
/// decides its arithmetic, <paramref name="DataHash"/> and <paramref name="DataCount"/> what its copy of the training split
/// holds (the hash of the job's <see cref="JobSpec.DataChallenge"/>): the coordinator refuses a worker that would change the run's bits.
/// </summary>
[MessagePackObject]
public sealed record RegisterWorker(
    [property: Key(0)] string WorkerName,
    [property: Key(1)] ModelSignature Signature,
    [property: Key(2)] string Device,
    [property: Key(3)] string? BulkEndpoint = null,
    [property: Key(4)] string? SharedMemoryPath = null,
    [property: Key(5)] int SharedMemorySlots = 1,
    [property: Key(6)] ComputeFingerprint? Compute = null,
    [property: Key(7)] string? DataHash = null,
    [property: Key(8)] int DataCount = 0) : IWireMessage;
