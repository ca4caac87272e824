// Who trains: the admitted workers in rank order, those admitted mid-step, and who takes an orphaned shard.
namespace DistClip.Coordinator.Steps;

/// <summary>
/// The coordinator's roster. Workers admitted between steps are active at once; workers admitted while a
/// step is in flight join at the next step boundary (<see cref="BeginStep"/>), so a step's shard plan never
/// changes under it. A shard whose worker left goes round-robin to the active workers — or, when none is
/// left, to a worker that is still joining, which becomes active for it. Generic in the worker handle so
/// that tests drive it without an actor system, as <see cref="StepInFlight{TWorker}"/>.
/// </summary>
public sealed class WorkerRoster<TWorker> where TWorker : notnull
{
    private readonly List<TWorker> _active = [];
    private readonly List<TWorker> _joining = [];
    private int _nextForOrphan;

    /// <summary>The workers that take shards, in admission (rank) order.</summary>
    public IReadOnlyList<TWorker> Active => _active;

    /// <summary>Every admitted worker: the active ones, then those joining at the next step.</summary>
    public IEnumerable<TWorker> All => _active.Concat(_joining);

    public bool Contains(TWorker worker) => _active.Contains(worker) || _joining.Contains(worker);

    /// <summary>Admits <paramref name="worker"/>: active now between steps, at the next step boundary during one. False if it is admitted already.</summary>
    public bool Admit(TWorker worker, bool stepInFlight)
    {
        if (Contains(worker)) return false;
        (stepInFlight ? _joining : _active).Add(worker);
        return true;
    }

    /// <summary>A step boundary: the workers admitted during the last step become active.</summary>
    public void BeginStep()
    {
        _active.AddRange(_joining);
        _joining.Clear();
    }

    /// <summary>Removes a worker that left; false if it was not admitted.</summary>
    public bool Remove(TWorker worker) => _active.Remove(worker) | _joining.Remove(worker);

    /// <summary>
    /// The workers that compute <paramref name="shards"/> orphaned shards, one per shard, round-robin over the
    /// active workers — or, when none is active, over the joining ones, each of which becomes active as it is
    /// used (nobody else can: it joins now rather than at the boundary). Empty when no worker is left.
    /// </summary>
    public IReadOnlyList<TWorker> TakeOrphans(int shards)
    {
        var candidates = (_active.Count > 0 ? _active : _joining).ToList();
        if (candidates.Count == 0) return [];
        var takers = Enumerable.Range(0, shards).Select(_ => candidates[_nextForOrphan++ % candidates.Count]).ToList();
        foreach (var worker in takers.Distinct()) if (_joining.Remove(worker)) _active.Add(worker);
        return takers;
    }
}
