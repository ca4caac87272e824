// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → worker: the job; the worker builds its replica and answers with <see cref="RegisterWorker"/>.
/// <paramref name="BulkEndpoint"/> is where a remote worker sends gradients (<c>host:port</c> of the
/// coordinator's bulk channel; null inside one process), and every bulk frame between the two carries <paramref name="BulkToken"/>,
/// this worker's own: the coordinator attributes a frame to the worker whose token it carries, and no other's is told to it.
/// <paramref name="SharedMemoryPath"/> names the coordinator's shared parameter segment: a worker that can
/// open it (with <paramref name="SharedMemoryToken"/>) is on the coordinator's host and exchanges through shared memory instead.
/// <paramref name="CoordinatorProof"/>, with a join secret: <see cref="JoinSecret.Proof"/> of the worker's nonce, the
/// name "coordinator" and the offering actor's address — a worker takes no job from anyone who cannot give it.
/// </summary>
[MessagePackObject]
public sealed record JobOffer(
    [property: Key(0)] JobSpec Job,
    [property: Key(1)] string? BulkEndpoint = null,
    [property: Key(2)] long BulkToken = 0,
    [property: Key(3)] string? SharedMemoryPath = null,
    [property: Key(4)] byte[]? CoordinatorProof = null,
    [property: Key(5)] long SharedMemoryToken = 0) : IWireMessage;
