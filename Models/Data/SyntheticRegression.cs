// A seeded synthetic regression set: images of blobs, targets the mean brightness of each image quadrant.
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// Images of a few random bright squares on a dark background (1×28×28); the four targets are the mean
/// brightness of the image's quadrants (top-left, top-right, bottom-left, bottom-right), in [0, 1].
/// Made in milliseconds; the same seed gives the same set in every process.
/// </summary>
public sealed class SyntheticRegression : IImageDataset
{
    private const int Size = 28, Half = Size / 2;
    private readonly byte[] _pixels;
    private readonly float[] _targets;

    public string Name { get; }
    public int Count { get; }
    public int Channels => 1;
    public int Height => Size;
    public int Width => Size;
    public int Classes => 4;
    public Core.TaskKind Task => Core.TaskKind.Regression;

    public SyntheticRegression(string name, int count, int seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
        (Name, Count) = (name, count);
        _pixels = new byte[count * Size * Size];
        _targets = new float[count * 4];
        var random = new Random(StableSeed.Of(seed, name));
        for (int n = 0; n < count; n++)
        {
            var image = _pixels.AsSpan(n * Size * Size, Size * Size);
            for (int blob = random.Next(1, 5); blob > 0; blob--)
            {
                int side = random.Next(3, 10), y0 = random.Next(Size - side), x0 = random.Next(Size - side);
                byte value = (byte)random.Next(80, 256);
                for (int y = y0; y < y0 + side; y++) image.Slice(y * Size + x0, side).Fill(value);
            }
            for (int q = 0; q < 4; q++)
            {
                int top = q / 2 * Half, left = q % 2 * Half;
                double sum = 0;
                for (int y = top; y < top + Half; y++) for (int x = left; x < left + Half; x++) sum += image[y * Size + x];
                _targets[n * 4 + q] = (float)(sum / (Half * Half * 255.0));
            }
        }
    }

    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices)
    {
        var images = new float[indices.Length * Size * Size];
        var targets = new float[indices.Length * 4];
        for (int b = 0; b < indices.Length; b++)
        {
            int i = indices[b];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Name} has {Count} samples");
            for (int k = 0; k < Size * Size; k++) images[b * Size * Size + k] = _pixels[i * Size * Size + k] / 255f;
            _targets.AsSpan(i * 4, 4).CopyTo(targets.AsSpan(b * 4, 4));
        }
        return (tensor(images, [indices.Length, 1, Size, Size]), tensor(targets, [indices.Length, 4]));
    }
}
