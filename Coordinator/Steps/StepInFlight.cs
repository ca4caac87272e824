// Book-keeping of the step being computed: which worker holds which shard, and what has come back.
using DistClip.Protocol;
using DistClip.Training.Reduction;
using DistClip.Exchange;

namespace DistClip.Coordinator.Steps;

/// <summary>
/// The step the coordinator is waiting on: its shards, the worker each is assigned to, and the
/// reducer. Generic in the worker handle so that tests drive it without an actor system.
/// </summary>
public sealed class StepInFlight<TWorker> where TWorker : notnull
{
    private readonly TWorker?[] _assignee;

    public long Step { get; }
    public long Version { get; }
    public int Epoch { get; }
    public int[][] Shards { get; }
    public GradientReducer Reducer { get; }

    /// <param name="sumBuffer">The reduction buffer (see <see cref="GradientReducer"/>); one element per parameter.</param>
    public StepInFlight(long step, long version, int[][] shards, float[] sumBuffer, int epoch = 0)
    {
        (Step, Version, Shards, Epoch) = (step, version, shards, epoch);
        _assignee = new TWorker?[shards.Length];
        Reducer = new GradientReducer(shards.Length, sumBuffer);
    }

    public bool IsComplete => Reducer.IsComplete;

    /// <summary>The request that asks for shard <paramref name="shard"/>.</summary>
    public ComputeGradients Request(int shard) => new(Step, Version, shard, Shards[shard], Epoch);

    public void Assign(int shard, TWorker worker) => _assignee[shard] = worker;

    /// <summary>Shards assigned to <paramref name="worker"/> whose result has not arrived.</summary>
    public IReadOnlyList<int> Outstanding(TWorker worker) =>
        Enumerable.Range(0, Shards.Length).Where(s => !Reducer.Has(s) && EqualityComparer<TWorker?>.Default.Equals(_assignee[s], worker)).ToList();

    /// <summary>Shards that have no live assignee (their worker left) and no result.</summary>
    public IReadOnlyList<int> Unassigned() =>
        Enumerable.Range(0, Shards.Length).Where(s => !Reducer.Has(s) && _assignee[s] is null).ToList();

    /// <summary>Forgets <paramref name="worker"/>'s outstanding shards; returns them for re-assignment.</summary>
    public IReadOnlyList<int> Release(TWorker worker)
    {
        var orphans = Outstanding(worker);
        foreach (var s in orphans) _assignee[s] = default;
        return orphans;
    }

    /// <summary>
    /// Accepts a result, or says in one sentence why it is dropped: another step or version, a shard
    /// not assigned to the sender, a duplicate, a wrong sample count or gradient length.
    /// </summary>
    public string? Accept(TWorker sender, ShardSum result)
    {
        if (Check(sender, result) is { } rejection) return rejection;
        Reducer.Add(result.Shard, result.SampleCount, result.LossSum, result.GradientSum);
        return null;
    }

    /// <summary>Why <see cref="Accept"/> would drop a result, or null when it would take it (nothing changes).</summary>
    public string? Check(TWorker sender, ShardSum result)
    {
        if (result.Step != Step || result.Version != Version)
            return $"result for step {result.Step} (version {result.Version}) while step {Step} (version {Version}) is current";
        if ((uint)result.Shard >= (uint)Shards.Length)
            return $"shard {result.Shard} does not exist in step {Step} ({Shards.Length} shards)";
        if (!EqualityComparer<TWorker?>.Default.Equals(_assignee[result.Shard], sender))
            return $"shard {result.Shard} of step {Step} is not assigned to the sender";
        if (Reducer.Has(result.Shard))
            return $"duplicate result for shard {result.Shard} of step {Step}";
        if (result.SampleCount != Shards[result.Shard].Length)
            return $"shard {result.Shard} has {Shards[result.Shard].Length} samples but the result counts {result.SampleCount}";
        if (result.GradientSum.Length != Reducer.ElementCount)
            return $"gradient of {result.GradientSum.Length} elements; the model has {Reducer.ElementCount}";
        return null;
    }
}
