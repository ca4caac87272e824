// float32 → binary16 without overflow: a power-of-two scale per transfer, chosen from its largest magnitude.
namespace DistClip.Exchange.WireFormat;

/// <summary>
/// binary16's largest finite value is 65504; a gradient sum over many samples can exceed it. A transfer is sent as
/// binary16(x · 2^-k) with the smallest k ≥ 0 that keeps every finite value finite, and k beside it; the receiver
/// multiplies by 2^k. A power of two scales exactly (until binary16's subnormals), so the rounding is binary16's own:
/// to nearest, ties to even (<see cref="Half"/>'s conversion). Non-finite values need no room: they travel as they are,
/// and the coordinator's non-finite policy sees them.
/// </summary>
public static class Fp16Scaling
{
    /// <summary>The exponent k (≥ 0) by which a transfer of <paramref name="values"/> is scaled down.</summary>
    public static int ScaleExponent(ReadOnlySpan<float> values)
    {
        float largest = 0;
        foreach (float v in values)
            if (float.IsFinite(v)) largest = MathF.Max(largest, MathF.Abs(v));
        int k = 0;
        while (Half.IsInfinity(ToHalfScaled(largest, k))) k++;
        return k;
    }

    public static void ToHalf(ReadOnlySpan<float> source, int scaleExponent, Span<Half> destination)
    {
        if (destination.Length != source.Length) throw new ArgumentException($"{destination.Length} binary16 slots for {source.Length} values", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = ToHalfScaled(source[i], scaleExponent);
    }

    public static void FromHalf(ReadOnlySpan<Half> source, int scaleExponent, Span<float> destination)
    {
        if (destination.Length != source.Length) throw new ArgumentException($"{destination.Length} float slots for {source.Length} binary16 values", nameof(destination));
        for (int i = 0; i < source.Length; i++) destination[i] = MathF.ScaleB((float)source[i], scaleExponent);
    }

    private static Half ToHalfScaled(float value, int scaleExponent) => (Half)MathF.ScaleB(value, -scaleExponent);
}
