// Sums shard gradients in shard order as they arrive, so the result never depends on arrival order.
namespace DistClip.Training.Reduction;

/// <summary>
/// Reduces one step's shard results: Σ_r gradSum_r in shard order 0, 1, …, N-1, then divides by
/// Σ_r count_r (a mean weighted by sample count, so uneven shards give exactly the whole-batch mean).
/// A shard that arrives early waits until all lower shards are added: the float32 sum is then
/// bit-identical from run to run whatever the arrival order, and reduction overlaps the arrivals.
/// </summary>
public sealed class GradientReducer
{
    private readonly float[] _sum;
    private readonly Contribution?[] _waiting;
    private int _nextShard;

    public int ShardCount { get; }
    public long ElementCount => _sum.Length;
    public long SampleCount { get; private set; }
    public double LossSum { get; private set; }
    public bool IsComplete => _nextShard == ShardCount;

    /// <param name="sumBuffer">
    /// Where the sum (then the mean) is formed; cleared here. The coordinator passes the same buffer
    /// every step rather than allocating a model-sized array per step.
    /// </param>
    public GradientReducer(int shardCount, float[] sumBuffer)
    {
        if (shardCount < 1) throw new ArgumentOutOfRangeException(nameof(shardCount), shardCount, "must be at least 1");
        ShardCount = shardCount;
        _sum = sumBuffer;
        Array.Clear(_sum);
        _waiting = new Contribution?[shardCount];
    }

    /// <summary>Whether shard <paramref name="shard"/> has been received.</summary>
    public bool Has(int shard) => shard < _nextShard || _waiting[shard] is not null;

    /// <summary>Adds one shard's result; returns false (and changes nothing) for a duplicate or malformed one.</summary>
    public bool Add(int shard, int sampleCount, double lossSum, ReadOnlyMemory<float> gradientSum)
    {
        if ((uint)shard >= (uint)ShardCount || Has(shard) || gradientSum.Length != _sum.Length)
            return false;
        _waiting[shard] = new Contribution(sampleCount, lossSum, gradientSum);
        while (_nextShard < ShardCount && _waiting[_nextShard] is { } next)
        {
            Accumulate(next);
            _waiting[_nextShard++] = null;
        }
        return true;
    }

    /// <summary>The weighted mean gradient Σ gradSum / Σ count, written into the reducer's buffer.</summary>
    public float[] MeanGradient()
    {
        if (!IsComplete) throw new InvalidOperationException($"Only {_nextShard} of {ShardCount} shards are reduced.");
        if (SampleCount == 0) throw new InvalidOperationException("The step has no samples.");
        System.Numerics.Tensors.TensorPrimitives.Divide(_sum, (float)SampleCount, _sum);
        return _sum;
    }

    private readonly record struct Contribution(int SampleCount, double LossSum, ReadOnlyMemory<float> GradientSum);

    private void Accumulate(Contribution shard)
    {
        SampleCount += shard.SampleCount;
        LossSum += shard.LossSum;
        if (shard.SampleCount == 0) return;  // an empty shard contributes nothing (and may carry zeros)
        System.Numerics.Tensors.TensorPrimitives.Add(_sum, shard.GradientSum.Span, _sum);
    }
}
