// Who a worker actor is: its name, its device and its intra-op threads. The job comes from the coordinator.
namespace DistClip.Worker;

/// <summary>Configuration of one worker actor.</summary>
/// <param name="Name">Unique worker name for logs (for example <c>worker-0</c>).</param>
/// <param name="Device">Torch device string: <c>cpu</c> or <c>cuda:i</c>.</param>
/// <param name="Threads">Intra-op threads for this worker's tensor work.</param>
/// <param name="Cpus">CPUs its thread (and the intra-op threads) are pinned to; null: wherever the OS schedules them.</param>
/// <param name="Secret">The cluster's join secret, proved when the coordinator challenges; null for none.</param>
/// <param name="Refused">Told that the coordinator refused or removed this worker, and why (the actor then stops).</param>
/// <param name="SendsNaN">Fault injection for tests: every gradient sum this worker sends is NaN (a faulty or hostile worker).</param>
/// <param name="RunOver">Told that the coordinator answered this worker's request to join with the end of the run (its last job
/// completed after the given steps): there is nothing left to serve, and the actor stops.</param>
/// <param name="JobEnded">Told, for each job it serves, why it has not completed: <see cref="WorkerActor.JobInProgress"/> once admitted, then why it stopped early, or null when it completed.</param>
/// <param name="Admitted">Told true when the coordinator admits this worker to a job, false when the job ends or the actor stops (metrics, readiness).</param>
/// <param name="Served">Told the step of each shard sum this worker sent (metrics).</param>
/// <param name="DriftsReplica">Fault injection for tests: in the sharded exchange, this worker's replica moves off the run's after every step (a worker whose compute differs).</param>
public sealed record WorkerSettings(string Name, string Device, int Threads, IReadOnlyList<int>? Cpus = null,
    Protocol.JoinSecret? Secret = null, Action<Protocol.WorkerRefused>? Refused = null, bool SendsNaN = false, Action<string?>? JobEnded = null, Action<long>? RunOver = null,
    Action<bool>? Admitted = null, Action<long>? Served = null, bool DriftsReplica = false);
