// The PASCAL VOC segmentation layout: JPEG images, palette PNG masks, image sets listing the split.
using System.Runtime.InteropServices;
using SkiaSharp;
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// PASCAL VOC segmentation: <c>JPEGImages/ID.jpg</c>, <c>SegmentationClass/ID.png</c> (palette PNG, the
/// VOC colour map: class c has the colour built from the bits of c; the border colour (224, 224, 192)
/// is 255 = ignore), and <c>ImageSets/Segmentation/{train,val}.txt</c> listing IDs. 21 classes. Images are
/// resized to <c>size</c>×<c>size</c> (bilinear) and masks likewise (nearest), when a batch asks for them.
/// </summary>
public sealed class VocSegmentationDataset : IImageDataset
{
    public const int VocClasses = 21;
    private readonly string _root;
    private readonly string[] _ids;
    private readonly int _size;
    private static readonly Dictionary<uint, byte> LabelOfColour = BuildColourMap();

    public string Name { get; }
    public int Count => _ids.Length;
    public int Channels => 3;
    public int Height => _size;
    public int Width => _size;
    public int Classes => VocClasses;
    public Core.TaskKind Task => Core.TaskKind.Segmentation;

    /// <param name="imageSet">train or val (the file name under ImageSets/Segmentation).</param>
    public VocSegmentationDataset(string root, string imageSet, int size)
    {
        var list = Path.Combine(root, "ImageSets", "Segmentation", imageSet + ".txt");
        if (!File.Exists(list)) throw new FileNotFoundException($"VOC image set not found: {list}", list);
        _ids = File.ReadAllLines(list).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (_ids.Length == 0) throw new InvalidDataException($"{list} lists no images.");
        (_root, _size, Name) = (root, size, $"voc/{imageSet}");
    }

    /// <summary>The VOC colour of class <paramref name="label"/> (the devkit's bit-interleaved colour map).</summary>
    public static SKColor ColourOf(int label)
    {
        int r = 0, g = 0, b = 0, c = label;
        for (int bit = 7; bit >= 0; bit--, c >>= 3)
        {
            r |= (c & 1) << bit;
            g |= ((c >> 1) & 1) << bit;
            b |= ((c >> 2) & 1) << bit;
        }
        return new SKColor((byte)r, (byte)g, (byte)b);
    }

    private static Dictionary<uint, byte> BuildColourMap()
    {
        var map = Enumerable.Range(0, VocClasses).ToDictionary(c => Key(ColourOf(c)), c => (byte)c);
        map[Key(new SKColor(224, 224, 192))] = 255;  // object borders: ignored
        return map;
    }

    private static uint Key(SKColor c) => (uint)(c.Red << 16 | c.Green << 8 | c.Blue);

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        var images = empty([indices.Length, 3, _size, _size], ScalarType.Float32);   // (B, 3, S, S)
        var labels = empty([indices.Length, _size, _size], ScalarType.Int64);        // (B, S, S)
        var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
        var classes = MemoryMarshal.Cast<byte, long>(labels.bytes);
        int area = _size * _size;
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Name} has {Count} samples");
            using (var image = ImageFiles.Decode(Path.Combine(_root, "JPEGImages", _ids[i] + ".jpg")))
                ImageFiles.WriteRgb(image, _size, pixels.Slice(b * 3 * area, 3 * area));
            var maskPath = Path.Combine(_root, "SegmentationClass", _ids[i] + ".png");
            using var mask = ImageFiles.Decode(maskPath);
            using var resized = ImageFiles.Resize(mask, _size, nearest: true);
            for (int y = 0; y < _size; y++)
                for (int x = 0; x < _size; x++)
                {
                    var colour = resized.GetPixel(x, y);
                    if (!LabelOfColour.TryGetValue(Key(colour), out var label))
                        throw new InvalidDataException($"{maskPath}: colour ({colour.Red}, {colour.Green}, {colour.Blue}) at ({x}, {y}) is not in the VOC colour map.");
                    classes[b * area + y * _size + x] = label;
                }
        }
        return (images, labels);
    }
}
