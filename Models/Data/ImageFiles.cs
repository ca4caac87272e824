// Decodes PNG and JPEG files into planar float pixels at a fixed size (SkiaSharp).
using SkiaSharp;

namespace DistClip.Models.Data;

/// <summary>Image decoding shared by the file-backed data sets.</summary>
public static class ImageFiles
{
    /// <summary>Decodes <paramref name="path"/>; a file that is missing or not an image is an error naming it.</summary>
    public static SKBitmap Decode(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image not found: {path}", path);
        return SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path}: not a PNG or JPEG image SkiaSharp can decode.");
    }

    /// <summary>
    /// Writes the RGB planes of <paramref name="bitmap"/>, resized to <paramref name="size"/>×<paramref name="size"/>
    /// (bilinear), into <paramref name="target"/> (3 × size × size floats in [0, 1], (C, H, W) order).
    /// </summary>
    public static void WriteRgb(SKBitmap bitmap, int size, Span<float> target)
    {
        using var resized = Resize(bitmap, size, nearest: false);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                var c = resized.GetPixel(x, y);
                target[y * size + x] = c.Red / 255f;
                target[size * size + y * size + x] = c.Green / 255f;
                target[2 * size * size + y * size + x] = c.Blue / 255f;
            }
    }

    /// <summary>A copy at <paramref name="size"/>×<paramref name="size"/>; nearest-neighbour keeps label colours intact.</summary>
    public static SKBitmap Resize(SKBitmap bitmap, int size, bool nearest)
    {
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var sampling = nearest ? new SKSamplingOptions(SKFilterMode.Nearest) : new SKSamplingOptions(SKFilterMode.Linear);
        using var source = bitmap.ColorType == SKColorType.Rgba8888 ? bitmap.Copy() : bitmap.Copy(SKColorType.Rgba8888);
        return source.Resize(info, sampling) ?? throw new InvalidDataException("An image could not be resized.");
    }
}
