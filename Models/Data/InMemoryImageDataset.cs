// A data set held as bytes in memory (one byte per pixel), batched into float32 tensors on demand.
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// Images stored as 8-bit pixels (N·C·H·W bytes, row-major) with one label per image. Pixels are
/// scaled to [0, 1] by dividing by 255 when a batch is built.
/// </summary>
public sealed class InMemoryImageDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly int _imageSize;

    public string Name { get; }
    public int Count => _labels.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }

    public InMemoryImageDataset(string name, byte[] pixels, byte[] labels, int channels, int height, int width, int classes)
    {
        _imageSize = channels * height * width;
        if (pixels.Length != labels.Length * _imageSize)
            throw new ArgumentException($"{name}: {pixels.Length} pixel bytes do not make {labels.Length} images of {channels}x{height}x{width}.", nameof(pixels));
        var maxLabel = labels.Length == 0 ? 0 : labels.Max();
        if (maxLabel >= classes)
            throw new ArgumentException($"{name}: label {maxLabel} is outside [0, {classes}).", nameof(labels));
        (_pixels, _labels, Name, Channels, Height, Width, Classes) = (pixels, labels, name, channels, height, width, classes);
    }

    /// <summary>The first <paramref name="count"/> samples as a new data set (shares no state with callers).</summary>
    public InMemoryImageDataset Take(int count)
    {
        if (count < 1 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"must be in [1, {Count}]");
        return new InMemoryImageDataset($"{Name}[:{count}]", _pixels[..(count * _imageSize)], _labels[..count], Channels, Height, Width, Classes);
    }

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        // Written straight into the tensors' native memory: no managed staging arrays, which at these
        // sizes would land on the large-object heap every step.
        var images = empty([indices.Length, Channels, Height, Width], ScalarType.Float32);  // (B, C, H, W)
        var labels = empty([indices.Length], ScalarType.Int64);                             // (B)
        var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
        var classes = MemoryMarshal.Cast<byte, long>(labels.bytes);
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            if ((uint)i >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Name} has {Count} samples");
            var source = _pixels.AsSpan(i * _imageSize, _imageSize);
            var target = pixels.Slice(b * _imageSize, _imageSize);
            for (int k = 0; k < source.Length; k++) target[k] = source[k] / 255f;
            classes[b] = _labels[i];
        }
        return (images, labels);
    }
}
