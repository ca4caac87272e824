// Which worker sent a shard that was not finite, told apart from a step whose gradient is not finite anyway.
namespace DistClip.Coordinator.Steps;

/// <summary>
/// A non-finite shard result is not reduced: the shard is computed again by another worker. If that result is
/// finite, the first worker was at fault (counted; removed at <paramref name="maxBadShards"/>); if it is not finite
/// either, the shard's gradient really is (the model diverged), and it is reduced as it is, blaming nobody — the step
/// is then skipped or ends the run by the non-finite policy. With fixed shards the recomputed result is the one the
/// faulty worker should have sent, so the step's result is exactly the clean run's. Generic in the worker handle so
/// that tests drive it without actors.
/// </summary>
public sealed class FaultyShards<TWorker>(int maxBadShards) where TWorker : notnull
{
    private readonly Dictionary<int, TWorker> _suspectOf = [];   // this step: shard → the worker whose result was not finite
    private readonly Dictionary<TWorker, int> _bad = [];

    /// <summary>Faulty shards confirmed in the current step.</summary>
    public int ThisStep { get; private set; }

    /// <summary>Faulty shards confirmed over the run.</summary>
    public int Total { get; private set; }

    public void BeginStep()
    {
        _suspectOf.Clear();
        ThisStep = 0;
    }

    /// <summary>A non-finite result for <paramref name="shard"/> from <paramref name="sender"/>: true to have it computed again elsewhere, false to reduce it as it is (a second opinion agreed).</summary>
    public bool Suspect(int shard, TWorker sender)
    {
        if (_suspectOf.TryGetValue(shard, out var first) && !first.Equals(sender))
        {
            _suspectOf.Remove(shard);   // another worker agrees: not the worker's fault
            return false;
        }
        _suspectOf[shard] = sender;     // first suspicion, or the suspect again: ask someone else
        return true;
    }

    /// <summary>No other worker can give a second opinion: the result is reduced as it is, and nobody blamed.</summary>
    public void Forgive(int shard) => _suspectOf.Remove(shard);

    /// <summary>A finite result for <paramref name="shard"/>: the worker whose non-finite result it replaces is blamed and returned, with its count; default when none.</summary>
    public (TWorker? Blamed, int Count) Confirmed(int shard)
    {
        if (!_suspectOf.Remove(shard, out var blamed)) return (default, 0);
        ThisStep++;
        Total++;
        int count = _bad[blamed] = _bad.GetValueOrDefault(blamed) + 1;
        return (blamed, count);
    }

    /// <summary>Whether a worker with <paramref name="count"/> faulty shards is to be removed.</summary>
    public bool Exhausted(int count) => count >= maxBadShards;
}
