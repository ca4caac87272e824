// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → workers: training is over for them — the job ended, or the coordinator gave up on them while their
/// node was unreachable — so each drops its replica and asks to join again (the next job, or this one anew). Sent to a worker
/// that asks to join after the coordinator's last job has completed, it says the run is over: the worker stops, and its
/// process exits 0.
/// </summary>
/// <param name="Steps">The steps the run has completed.</param>
/// <param name="StoppedBecause">Why the run ended before its last step (its worker processes then exit non-zero); null when it completed, or for a worker given up on.</param>
/// <param name="CoordinatorProof">To a joining worker, with a join secret: the coordinator's proof of it over the worker's nonce (as in
/// <see cref="JobOffer"/>), without which that worker does not believe the run is over.</param>
/// <param name="GivenUp">The coordinator gave up on this worker while the run goes on (its node was unreachable): a worker that
/// serves the job drops its replica and joins again; one that is joining already ignores it (it never means the run is over).</param>
[MessagePackObject]
public sealed record TrainingFinished([property: Key(0)] long Steps, [property: Key(1)] string? StoppedBecause = null,
    [property: Key(2)] byte[]? CoordinatorProof = null, [property: Key(3)] bool GivenUp = false) : IWireMessage;
