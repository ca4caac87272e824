// Book-keeping of one attempt of a sharded step: who computes which shard, which owner reduces which range, what has come back.
using DistClip.Protocol;
using DistClip.Training.Reduction;

namespace DistClip.Coordinator.Steps;

/// <summary>
/// One attempt (<see cref="Plan"/>) of a sharded step as the coordinator follows it: the shards and who computes each (as
/// <see cref="StepInFlight{TWorker}"/>), the owners of the ranges, the shards reported computed (their loss sums and
/// whether they were finite) and the reduced ranges gathered into <see cref="Reduced"/>. The gradient's bytes never come
/// here but through the owners' reduced ranges. Generic in the worker handle so that tests drive it without actors.
/// </summary>
public sealed class ShardedStepInFlight<TWorker> where TWorker : notnull
{
    private readonly TWorker?[] _assignee;
    private readonly ShardComputed?[] _computed;
    private readonly bool[] _gathered;
    private int _missingShards, _missingRanges;

    public long Step { get; }
    public long Plan { get; }
    public long Version { get; }
    public int Epoch { get; }
    public int[][] Shards { get; }
    public IReadOnlyList<TWorker> Owners { get; }
    public RangePlan Ranges { get; }

    /// <summary>The reduced (mean) exchange vector, complete once <see cref="IsComplete"/>.</summary>
    public float[] Reduced { get; }

    /// <param name="reduced">Where the reduced ranges are gathered (reused from step to step); one element per exchange element.</param>
    public ShardedStepInFlight(long step, long plan, long version, int[][] shards, IReadOnlyList<TWorker> owners, float[] reduced, int epoch = 0)
    {
        if (owners.Count == 0) throw new ArgumentException("A sharded step needs at least one owner.", nameof(owners));
        (Step, Plan, Version, Shards, Owners, Reduced, Epoch) = (step, plan, version, shards, owners, reduced, epoch);
        Ranges = RangePlan.Balanced(reduced.Length, owners.Count, plan);
        _assignee = new TWorker?[shards.Length];
        _computed = new ShardComputed?[shards.Length];
        _gathered = new bool[owners.Count];
        (_missingShards, _missingRanges) = (shards.Length, owners.Count);
    }

    public bool IsComplete => _missingShards == 0 && _missingRanges == 0;

    /// <summary>The request that asks for shard <paramref name="shard"/>.</summary>
    public ComputeGradients Request(int shard) => new(Step, Version, shard, Shards[shard], Epoch);

    public void Assign(int shard, TWorker worker) => _assignee[shard] = worker;

    /// <summary>Shards assigned to <paramref name="worker"/> not yet reported computed.</summary>
    public IReadOnlyList<int> Outstanding(TWorker worker) =>
        Enumerable.Range(0, Shards.Length).Where(s => _computed[s] is null && EqualityComparer<TWorker?>.Default.Equals(_assignee[s], worker)).ToList();

    public bool IsOwner(TWorker worker) => Owners.Contains(worker);

    /// <summary>Takes a shard's report, or says in one sentence why it is dropped.</summary>
    public string? Report(TWorker sender, ShardComputed report)
    {
        if (report.Step != Step || report.Plan != Plan) return $"a report for step {report.Step} (plan {report.Plan}) while step {Step} (plan {Plan}) is current";
        if ((uint)report.Shard >= (uint)Shards.Length) return $"shard {report.Shard} does not exist in step {Step} ({Shards.Length} shards)";
        if (!EqualityComparer<TWorker?>.Default.Equals(_assignee[report.Shard], sender)) return $"shard {report.Shard} of step {Step} is not assigned to the sender";
        if (_computed[report.Shard] is not null) return $"duplicate report for shard {report.Shard} of step {Step}";
        if (report.SampleCount != Shards[report.Shard].Length)
            return $"shard {report.Shard} has {Shards[report.Shard].Length} samples but the report counts {report.SampleCount}";
        _computed[report.Shard] = report;
        _missingShards--;
        return null;
    }

    /// <summary>Takes the reduced range of owner <paramref name="sender"/>, or says why it is dropped.</summary>
    public string? Gather(TWorker sender, long step, long plan, int offset, ReadOnlySpan<float> values)
    {
        if (step != Step || plan != Plan) return $"a reduced range of step {step} (plan {plan}) while step {Step} (plan {Plan}) is current";
        int owner = Owners.ToList().IndexOf(sender);
        if (owner < 0) return "a reduced range from a worker that owns no range of this step";
        var range = Ranges.Ranges[owner];
        if (offset != range.Start || values.Length != range.Length)
            return $"owner {owner}'s reduced range came as [{offset}, {offset + values.Length}), its range is {range}";
        if (_gathered[owner]) return $"owner {owner}'s reduced range came twice";
        values.CopyTo(Reduced.AsSpan(offset));
        _gathered[owner] = true;
        _missingRanges--;
        return null;
    }

    /// <summary>Σ samples of the step.</summary>
    public long SampleCount => Shards.Sum(s => (long)s.Length);

    /// <summary>Σ loss sums in shard order (as the central reducer adds them).</summary>
    public double LossSum
    {
        get
        {
            double sum = 0;
            foreach (var report in _computed) sum += report!.LossSum;
            return sum;
        }
    }

    /// <summary>Shards whose reported gradient was not finite.</summary>
    public IEnumerable<int> NonFiniteShards => Enumerable.Range(0, Shards.Length).Where(s => _computed[s] is { Finite: false });
}
