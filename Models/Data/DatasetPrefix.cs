// The first N samples of a data set (--train-samples), for any data set.
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>A view of the first <see cref="Count"/> samples of another data set.</summary>
public sealed class DatasetPrefix : IImageDataset
{
    private readonly IImageDataset _inner;

    private DatasetPrefix(IImageDataset inner, int count) => (_inner, Count) = (inner, count);

    /// <summary>The first <paramref name="count"/> samples; the data set itself when it has no more.</summary>
    public static IImageDataset Of(IImageDataset data, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
        return count >= data.Count ? data : data is InMemoryImageDataset memory ? memory.Take(count) : new DatasetPrefix(data, count);
    }

    public string Name => $"{_inner.Name}[:{Count}]";
    public int Count { get; }
    public int Channels => _inner.Channels;
    public int Height => _inner.Height;
    public int Width => _inner.Width;
    public int Classes => _inner.Classes;
    public Protocol.TaskKind Task => _inner.Task;

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        foreach (var i in indices)
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Name} has {Count} samples");
        return _inner.Batch(indices);
    }
}
