// Which samples form global batch b of epoch e: a seeded permutation per epoch, the same for any N.
namespace DistClip.Coordinator.Steps;

/// <summary>
/// The sequence of global batches. Epoch e visits the training split in the order of a permutation
/// drawn from (seed, e) (or in file order without shuffling); global batch b of the epoch is
/// positions [b·B, (b+1)·B) of that order, the last batch of an epoch possibly shorter. The sequence
/// does not depend on the number of workers.
/// </summary>
public sealed class BatchOrder
{
    private readonly int _datasetSize;
    private readonly int _globalBatch;
    private readonly bool _shuffle;
    private readonly int _seed;
    private int _cachedEpoch = -1;
    private int[] _cachedOrder = [];

    /// <summary>Number of global batches per epoch: ⌈dataset size / B⌉.</summary>
    public int StepsPerEpoch { get; }

    public BatchOrder(int datasetSize, int globalBatch, bool shuffle, int seed)
    {
        if (datasetSize < 1) throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, "the training split is empty");
        if (globalBatch < 1) throw new ArgumentOutOfRangeException(nameof(globalBatch), globalBatch, "must be at least 1");
        (_datasetSize, _globalBatch, _shuffle, _seed) = (datasetSize, globalBatch, shuffle, seed);
        StepsPerEpoch = (datasetSize + globalBatch - 1) / globalBatch;
    }

    /// <summary>The sample indices of global step <paramref name="step"/> (0-based, counted across epochs).</summary>
    public int[] GlobalBatch(long step)
    {
        int epoch = (int)(step / StepsPerEpoch), b = (int)(step % StepsPerEpoch);
        var order = Order(epoch);
        int start = b * _globalBatch;
        return order[start..Math.Min(start + _globalBatch, _datasetSize)];
    }

    /// <summary>The visiting order of epoch <paramref name="epoch"/>.</summary>
    public int[] Order(int epoch)
    {
        if (epoch != _cachedEpoch)
        {
            _cachedOrder = _shuffle ? Permutation(_datasetSize, _seed, epoch) : Enumerable.Range(0, _datasetSize).ToArray();
            _cachedEpoch = epoch;
        }
        return _cachedOrder;
    }

    /// <summary>
    /// A Fisher–Yates permutation of [0, n) from System.Random seeded with (seed, epoch); System.Random's
    /// seeded sequence is stable across .NET versions, so runs are reproducible.
    /// </summary>
    public static int[] Permutation(int n, int seed, int epoch)
    {
        var random = new Random(unchecked(seed * 1_000_003 + epoch));
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
