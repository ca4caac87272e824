// Which replicas diverged, from the hashes every worker reported for one step.
namespace DistClip.Training.State;

/// <summary>
/// The coordinator's verdict on one comparison of replica hashes (<see cref="ReplicaHash"/>): the state a strict majority
/// of the workers hold is the run's, and each worker that holds another is named divergent (to be removed; its ranges are
/// planned anew). Without a strict majority (two workers that differ, two against two) nothing tells which is right: the
/// run must stop at its last checkpoint, naming every group, rather than carry on with a state it cannot vouch for.
/// </summary>
public sealed record ReplicaAgreement(ReplicaHash? Majority, IReadOnlyList<string> Divergent, IReadOnlyList<IReadOnlyList<string>> Groups)
{
    /// <summary>Every worker holds the majority's state.</summary>
    public bool Agreed => Majority is not null && Divergent.Count == 0;

    /// <summary>No state is held by more than half of the workers.</summary>
    public bool Undecided => Majority is null;

    /// <param name="hashes">Each worker's hash for the same step, by worker name (at least one).</param>
    public static ReplicaAgreement Judge(IReadOnlyDictionary<string, ReplicaHash> hashes)
    {
        if (hashes.Count == 0) throw new ArgumentException("there is no replica to compare", nameof(hashes));
        var groups = hashes.GroupBy(kv => kv.Value, kv => kv.Key)
            .Select(g => (Hash: g.Key, Workers: (IReadOnlyList<string>)g.Order(StringComparer.Ordinal).ToArray()))
            .OrderByDescending(g => g.Workers.Count).ThenBy(g => g.Workers[0], StringComparer.Ordinal).ToArray();
        var all = groups.Select(g => g.Workers).ToArray();
        if (2 * groups[0].Workers.Count <= hashes.Count) return new ReplicaAgreement(null, [], all);
        var divergent = groups.Skip(1).SelectMany(g => g.Workers).Order(StringComparer.Ordinal).ToArray();
        return new ReplicaAgreement(groups[0].Hash, divergent, all);
    }
}
