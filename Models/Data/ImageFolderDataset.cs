// An image folder: one sub-folder per class, PNG or JPEG files, decoded only when a batch asks for them.
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// torchvision's ImageFolder layout: <c>root/CLASS/*.png|jpg|jpeg</c>, classes numbered in ordinal
/// order of their folder names. Images are decoded as RGB and resized to <c>size</c>×<c>size</c> when a
/// batch needs them, so a worker reads only the files of the samples it is assigned.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];
    private readonly (string Path, int Label)[] _files;
    private readonly int _size;

    public string Name { get; }
    public int Count => _files.Length;
    public int Channels => 3;
    public int Height => _size;
    public int Width => _size;
    public int Classes { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public ImageFolderDataset(string root, int size)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Image folder not found: {root}");
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "must be at least 1");
        ClassNames = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (ClassNames.Count < 2) throw new InvalidDataException($"{root}: an image folder needs one sub-folder per class, at least two.");
        _files = ClassNames.SelectMany((name, label) => Directory.GetFiles(Path.Combine(root, name))
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).Select(f => (f, label)))
            .ToArray();
        if (_files.Length == 0) throw new InvalidDataException($"{root}: no PNG or JPEG files in its class folders.");
        (Name, Classes, _size) = (Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), ClassNames.Count, size);
    }

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        var images = empty([indices.Length, 3, _size, _size], ScalarType.Float32);   // (B, 3, S, S)
        var labels = empty([indices.Length], ScalarType.Int64);
        var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
        var classes = MemoryMarshal.Cast<byte, long>(labels.bytes);
        int plane = 3 * _size * _size;
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Name} has {Count} samples");
            using var bitmap = ImageFiles.Decode(_files[i].Path);
            ImageFiles.WriteRgb(bitmap, _size, pixels.Slice(b * plane, plane));
            classes[b] = _files[i].Label;
        }
        return (images, labels);
    }
}
