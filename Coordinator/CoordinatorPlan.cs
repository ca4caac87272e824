// How long to train and when to start, as the coordinator sees it.
namespace DistClip.Coordinator;

/// <summary>The coordinator's run parameters.</summary>
/// <param name="TotalSteps">Number of global steps to run.</param>
/// <param name="MinWorkers">Training starts once this many workers are admitted.</param>
/// <param name="Shards">
/// Shards of every global batch, fixed for the whole run whatever workers are present (a worker may compute
/// several): the run's result depends on this number, never on which workers computed it. Null: <paramref name="MinWorkers"/>.
/// </param>
/// <param name="IntraOpThreads">Threads for the coordinator's own tensor work (clipping, optimizer step).</param>
/// <param name="StepTimeoutSeconds">
/// The longest wait for a shard's result before it is asked for again (a result lost with a dropped connection must
/// not stall training; duplicates are dropped); the wait is shorter once steps have been timed (<see cref="Steps.ResultDeadline"/>).
/// </param>
/// <param name="Resumed">Where a resumed run starts (the master weights already restored to it); null for a fresh run.</param>
/// <param name="MaxBadShards">A worker whose shard results were not finite (where another's were) this many times is removed.</param>
/// <param name="Fingerprint">What a worker must match to be admitted (compute, data); null: anything.</param>
/// <param name="ReplicaCheckEvery">The sharded exchange compares every replica's hash with the coordinator's after every this many steps; 0: never.</param>
public sealed record CoordinatorPlan(long TotalSteps, int MinWorkers, int IntraOpThreads = 1, double StepTimeoutSeconds = 120, int? Shards = null,
    RunCounters? Resumed = null, int MaxBadShards = 3, ClusterFingerprint? Fingerprint = null, int ReplicaCheckEvery = 50)
{
    /// <summary>Shards of every global batch.</summary>
    public int ShardCount => Shards ?? MinWorkers;

    public CoordinatorPlan Validate()
    {
        if (TotalSteps < 1) throw new ArgumentOutOfRangeException(nameof(TotalSteps), TotalSteps, "must be at least 1");
        if (MinWorkers < 1) throw new ArgumentOutOfRangeException(nameof(MinWorkers), MinWorkers, "must be at least 1");
        if (!(StepTimeoutSeconds > 0)) throw new ArgumentOutOfRangeException(nameof(StepTimeoutSeconds), StepTimeoutSeconds, "must be positive");
        if (Shards is < 1) throw new ArgumentOutOfRangeException(nameof(Shards), Shards, "must be at least 1");
        if (MaxBadShards < 1) throw new ArgumentOutOfRangeException(nameof(MaxBadShards), MaxBadShards, "must be at least 1");
        if (ReplicaCheckEvery < 0) throw new ArgumentOutOfRangeException(nameof(ReplicaCheckEvery), ReplicaCheckEvery, "must not be negative");
        if (IntraOpThreads < 1) throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "must be at least 1");
        return this;
    }
}
