// The comparisons of replica hashes the coordinator has asked for and not yet judged.
using DistClip.Training.State;

namespace DistClip.Coordinator.Steps;

/// <summary>
/// The sharded exchange's replica checks in progress: after the steps of a check, the coordinator's own hash and those
/// its workers report (<see cref="Protocol.ReplicaHashReport"/>). Once every worker still expected has reported, the
/// check is judged (<see cref="ReplicaAgreement"/>, the coordinator counting as one replica) and forgotten.
/// </summary>
public sealed class ReplicaChecks
{
    /// <summary>The name the coordinator's own replica goes by in a verdict.</summary>
    public const string Coordinator = "coordinator";

    private sealed record Check(ReplicaHash Own, HashSet<string> Expected, Dictionary<string, ReplicaHash> Reported);

    private readonly SortedDictionary<long, Check> _checks = [];

    /// <summary>After <paramref name="steps"/> steps the coordinator holds <paramref name="own"/>; <paramref name="workers"/> are to report theirs.</summary>
    public void Expect(long steps, ReplicaHash own, IEnumerable<string> workers) => _checks[steps] = new Check(own, [.. workers], []);

    /// <summary>Takes a worker's report; returns the verdict when it was the last one expected for those steps, else null.</summary>
    public (long Steps, ReplicaAgreement Verdict)? Report(long steps, string worker, ReplicaHash hash)
    {
        if (!_checks.TryGetValue(steps, out var check) || !check.Expected.Contains(worker)) return null;
        check.Reported[worker] = hash;
        return JudgeIfComplete(steps, check);
    }

    /// <summary>A worker left: it is no longer waited for; returns the verdicts that were waiting only for it.</summary>
    public IReadOnlyList<(long Steps, ReplicaAgreement Verdict)> Forget(string worker)
    {
        var verdicts = new List<(long, ReplicaAgreement)>();
        foreach (var (steps, check) in _checks.ToList())
        {
            check.Expected.Remove(worker);
            check.Reported.Remove(worker);
            if (JudgeIfComplete(steps, check) is { } verdict) verdicts.Add(verdict);
        }
        return verdicts;
    }

    private (long, ReplicaAgreement)? JudgeIfComplete(long steps, Check check)
    {
        if (check.Reported.Count < check.Expected.Count) return null;
        _checks.Remove(steps);
        return (steps, ReplicaAgreement.Judge(new Dictionary<string, ReplicaHash>(check.Reported) { [Coordinator] = check.Own }));
    }
}
