// A seeded synthetic segmentation set: squares and discs of several classes on a noisy background.
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// 1×32×32 images with up to three shapes (class 1: square, 2: disc, 3: horizontal bar), each drawn
/// in its class's brightness band over background noise; the mask gives each pixel its shape's class
/// (0 = background) and marks a one-pixel border around discs 255 (ignore). The same seed gives the
/// same set in every process.
/// </summary>
public sealed class SyntheticSegmentation : IImageDataset
{
    private const int Size = 32;
    private readonly byte[] _pixels, _masks;

    public string Name { get; }
    public int Count { get; }
    public int Channels => 1;
    public int Height => Size;
    public int Width => Size;
    public int Classes => 4;
    public Core.TaskKind Task => Core.TaskKind.Segmentation;

    public SyntheticSegmentation(string name, int count, int seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
        (Name, Count) = (name, count);
        _pixels = new byte[count * Size * Size];
        _masks = new byte[count * Size * Size];
        var random = new Random(StableSeed.Of(seed, name));
        for (int n = 0; n < count; n++)
        {
            var image = _pixels.AsSpan(n * Size * Size, Size * Size);
            var mask = _masks.AsSpan(n * Size * Size, Size * Size);
            for (int k = 0; k < image.Length; k++) image[k] = (byte)random.Next(0, 60);
            for (int shape = random.Next(1, 4); shape > 0; shape--)
            {
                int kind = random.Next(1, 4), cy = random.Next(6, Size - 6), cx = random.Next(6, Size - 6), r = random.Next(3, 6);
                byte value = (byte)random.Next(50 + 50 * kind, 90 + 50 * kind);   // each class has its own brightness band, 100…239
                for (int y = 0; y < Size; y++)
                    for (int x = 0; x < Size; x++)
                    {
                        int dy = y - cy, dx = x - cx;
                        double d = Math.Sqrt(dy * dy + dx * dx);
                        bool inside = kind switch
                        {
                            1 => Math.Abs(dy) <= r && Math.Abs(dx) <= r,
                            2 => d <= r,
                            _ => Math.Abs(dy) <= 1 && Math.Abs(dx) <= r + 2,
                        };
                        if (inside) { image[y * Size + x] = value; mask[y * Size + x] = (byte)kind; }
                        else if (kind == 2 && d <= r + 1 && mask[y * Size + x] == 0) mask[y * Size + x] = 255;  // a border nobody is judged on
                    }
            }
        }
    }

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        var images = empty([indices.Length, 1, Size, Size], ScalarType.Float32);   // (B, 1, H, W)
        var labels = empty([indices.Length, Size, Size], ScalarType.Int64);        // (B, H, W)
        var pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
        var classes = MemoryMarshal.Cast<byte, long>(labels.bytes);
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Name} has {Count} samples");
            for (int k = 0; k < Size * Size; k++)
            {
                pixels[b * Size * Size + k] = _pixels[i * Size * Size + k] / 255f;
                classes[b * Size * Size + k] = _masks[i * Size * Size + k];
            }
        }
        return (images, labels);
    }
}
