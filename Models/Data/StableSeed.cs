// Seeds derived from several values, identical in every process (unlike HashCode, which is salted per process).
using System.Text;

namespace DistClip.Models.Data;

/// <summary>
/// Mixes values into a seed with FNV-1a followed by a SplitMix64 finaliser. Random choices that must be
/// the same on every worker process (synthetic data, augmentation) are seeded from this, never from
/// <see cref="HashCode"/> or <c>string.GetHashCode</c>, which .NET randomises per process.
/// </summary>
public static class StableSeed
{
    public static int Of(params long[] values)
    {
        ulong h = 14695981039346656037UL;
        foreach (var v in values)
            for (int i = 0; i < 8; i++) h = (h ^ (byte)(v >> (8 * i))) * 1099511628211UL;
        return (int)Finalise(h);
    }

    public static int Of(long value, string text)
    {
        long textHash = 0;
        foreach (var b in Encoding.UTF8.GetBytes(text)) textHash = unchecked(textHash * 31 + b);
        return Of(value, textHash);
    }

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }
}
