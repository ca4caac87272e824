// The augmentation a job applies to training images, as a value workers receive with the job.
using System.Globalization;
using MessagePack;

namespace DistClip.Core;

/// <summary>
/// Training-time augmentation: random horizontal flip (p = 0.5), random crop after zero padding by
/// <paramref name="CropPadding"/> pixels, resize to <paramref name="Resize"/>×<paramref name="Resize"/>
/// (bilinear), then per-channel normalisation (x − mean) / std. Random choices depend only on
/// (seed, epoch, sample index), so N workers draw exactly what one process draws.
/// Resize and normalisation also apply at evaluation; flips and crops only in training.
/// </summary>
[MessagePackObject]
public sealed record Augmentation(
    [property: Key(0)] bool Flip = false,
    [property: Key(1)] int CropPadding = 0,
    [property: Key(2)] int? Resize = null,
    [property: Key(3)] float[]? Mean = null,
    [property: Key(4)] float[]? Std = null)
{
    public static Augmentation None { get; } = new();

    [IgnoreMember]
    public bool IsNone => !Flip && CropPadding == 0 && Resize is null && Mean is null;

    /// <summary>
    /// Parses a comma-separated spec: <c>flip</c>, <c>crop:P</c>, <c>resize:S</c>,
    /// <c>normalize:m1/m2/m3:s1/s2/s3</c> (one mean and std per channel), or <c>none</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Names the bad part and what would be valid.</exception>
    public static Augmentation Parse(string spec)
    {
        var result = None;
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bits = part.Split(':');
            string usage = $"Augmentation '{part}' is not valid; use flip, crop:P, resize:S, normalize:m1/m2/m3:s1/s2/s3 or none, separated by commas.";
            result = bits[0] switch
            {
                "none" when bits.Length == 1 => result,
                "flip" when bits.Length == 1 => result with { Flip = true },
                "crop" when bits.Length == 2 && int.TryParse(bits[1], CultureInfo.InvariantCulture, out var p) && p > 0 => result with { CropPadding = p },
                "resize" when bits.Length == 2 && int.TryParse(bits[1], CultureInfo.InvariantCulture, out var s) && s > 0 => result with { Resize = s },
                "normalize" when bits.Length == 3 && Floats(bits[1]) is { } mean && Floats(bits[2]) is { } std && mean.Length == std.Length && std.All(x => x > 0)
                    => result with { Mean = mean, Std = std },
                _ => throw new ArgumentException(usage),
            };
        }
        return result;
    }

    private static float[]? Floats(string text)
    {
        var parts = text.Split('/');
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])) return null;
        return values;
    }
}
