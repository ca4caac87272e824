// A local request to a JobHost: the node's last job has completed; tell every worker that asks to join that the run is over.
namespace DistClip.Coordinator;

/// <summary>
/// Local request to a <see cref="JobHost"/>: its node runs no further job, the last one having completed after
/// <paramref name="Steps"/> steps. Every worker that asks to join from now on — one whose pod was restarted as the run
/// ended, one started late — is answered <see cref="Protocol.TrainingFinished"/> at once, and its process exits 0,
/// instead of waiting for a coordinator that will not come back. With the cluster's join secret
/// (<paramref name="Secret"/>) a worker must prove it first, as it must to join a run: a stranger is refused, and learns
/// nothing of the run.
/// </summary>
public sealed record NoMoreJobs(long Steps, Protocol.JoinSecret? Secret = null);
