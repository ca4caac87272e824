// A view of some samples of another data set: the first N (--train-samples) or a cross-validation fold.
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>The samples of <c>inner</c> at the given indices, renumbered 0, 1, … in that order.</summary>
public sealed class DatasetSubset : IImageDataset
{
    private readonly IImageDataset _inner;
    private readonly int[] _indices;

    public DatasetSubset(IImageDataset inner, int[] indices, string name)
    {
        foreach (var i in indices)
            if ((uint)i >= (uint)inner.Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{inner.Name} has {inner.Count} samples");
        (_inner, _indices, Name) = (inner, indices, name);
    }

    /// <summary>The first <paramref name="count"/> samples; the data set itself when it has no more.</summary>
    public static IImageDataset First(IImageDataset data, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
        return count >= data.Count ? data
            : data is InMemoryImageDataset memory ? memory.Take(count)
            : new DatasetSubset(data, Enumerable.Range(0, count).ToArray(), $"{data.Name}[:{count}]");
    }

    public string Name { get; }
    public int Count => _indices.Length;
    public int Channels => _inner.Channels;
    public int Height => _inner.Height;
    public int Width => _inner.Width;
    public int Classes => _inner.Classes;
    public Core.TaskKind Task => _inner.Task;

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        var mapped = new int[indices.Length];
        for (int b = 0; b < indices.Length; b++)
        {
            if ((uint)indices[b] >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), indices[b], $"{Name} has {Count} samples");
            mapped[b] = _indices[indices[b]];
        }
        return _inner.Batch(mapped);
    }
}
