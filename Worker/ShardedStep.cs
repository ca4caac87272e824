// What one worker holds of a sharded step: the reduction of the range it owns, and the reduced vector it gathers.
using DistClip.Protocol;
using DistClip.Training.Reduction;

namespace DistClip.Worker;

/// <summary>
/// One worker's part of one attempt (<see cref="StepRanges.Plan"/>) of a sharded step, without actors. As owner
/// <see cref="StepRanges.You"/> it adds the S shard sums' slices of its range in shard order (a
/// <see cref="GradientReducer"/> over the range: the central reduction's per-element arithmetic) and divides by their
/// sample count; as a replica it gathers every owner's reduced range into <see cref="Reduced"/>, the whole mean gradient
/// the central reduction forms, bit for bit. A decision that arrives before the gathering is complete waits here.
/// </summary>
public sealed class ShardedStep
{
    private readonly GradientReducer _own;
    private readonly bool[] _gathered;
    private int _missing;

    public StepRanges Plan { get; }
    public RangePlan Ranges { get; }
    public ElementRange OwnRange => Ranges.Ranges[Plan.You];

    /// <summary>The reduced exchange vector, complete once <see cref="IsGathered"/>.</summary>
    public float[] Reduced { get; }

    public bool IsGathered => _missing == 0;

    /// <summary>The step's decision, once it came (it may come before the last range).</summary>
    public ClipDecided? Decision { get; set; }

    /// <param name="length">The exchange vector's length.</param>
    public ShardedStep(StepRanges plan, int length)
    {
        if ((uint)plan.You >= (uint)plan.Owners.Length) throw new ArgumentException($"The plan makes this worker owner {plan.You} of {plan.Owners.Length}.", nameof(plan));
        Plan = plan;
        Ranges = RangePlan.Balanced(length, plan.Owners.Length, plan.Plan);
        Reduced = new float[length];
        _own = new GradientReducer(plan.ShardSamples.Length, new float[OwnRange.Length]);
        _gathered = new bool[plan.Owners.Length];
        _missing = plan.Owners.Length;
    }

    /// <summary>
    /// Adds shard <paramref name="shard"/>'s slice of the owned range; returns the reduced (mean) range when this was the
    /// last shard, else null. <paramref name="rejection"/> says why a slice is dropped (another range, a duplicate, a count
    /// that is not the plan's).
    /// </summary>
    public ReadOnlyMemory<float>? AddShardRange(int shard, int sampleCount, double lossSum, int offset, ReadOnlyMemory<float> values, out string? rejection)
    {
        rejection = Check(shard, sampleCount, offset, values.Length);
        if (rejection is not null) return null;
        if (!_own.Add(shard, sampleCount, lossSum, values)) { rejection = $"shard {shard}'s range came twice"; return null; }
        if (!_own.IsComplete) return null;
        var mean = _own.SampleCount == 0 ? new float[OwnRange.Length] : _own.MeanGradient();
        AddReducedRange(Plan.You, OwnRange.Start, mean, out _);
        return mean;
    }

    private string? Check(int shard, int sampleCount, int offset, int length)
    {
        if ((uint)shard >= (uint)Plan.ShardSamples.Length) return $"shard {shard} is not in the plan ({Plan.ShardSamples.Length} shards)";
        if (sampleCount != Plan.ShardSamples[shard]) return $"shard {shard} has {Plan.ShardSamples[shard]} samples, its range counts {sampleCount}";
        if (offset != OwnRange.Start || length != OwnRange.Length)
            return $"a range [{offset}, {offset + length}) where this worker owns [{OwnRange.Start}, {OwnRange.End})";
        return null;
    }

    /// <summary>Takes owner <paramref name="owner"/>'s reduced range; false (with why) for a range that is not that owner's or came twice.</summary>
    public bool AddReducedRange(int owner, int offset, ReadOnlySpan<float> values, out string? rejection)
    {
        rejection = null;
        if ((uint)owner >= (uint)_gathered.Length) rejection = $"owner {owner} is not in the plan";
        else if (Ranges.Ranges[owner] is var range && (offset != range.Start || values.Length != range.Length))
            rejection = $"owner {owner}'s reduced range came as [{offset}, {offset + values.Length}), its range is [{range.Start}, {range.End})";
        else if (_gathered[owner]) rejection = $"owner {owner}'s reduced range came twice";
        if (rejection is not null) return false;
        values.CopyTo(Reduced.AsSpan(offset));
        _gathered[owner] = true;
        _missing--;
        return true;
    }
}
