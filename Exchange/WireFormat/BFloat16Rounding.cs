// float32 → bfloat16 → float32, as libtorch's c10::BFloat16 rounds: to nearest, ties to even, NaN kept a NaN.
namespace DistClip.Exchange.WireFormat;

/// <summary>
/// bfloat16 is float32's upper 16 bits: the same sign and exponent, 7 of the 23 fraction bits. Rounding adds half an
/// ulp of the kept part less one, plus the kept part's lowest bit (ties go to the even neighbour), then drops the low
/// half — a carry into the exponent is correct rounding, up to infinity past bfloat16's largest finite value. A NaN
/// becomes the quiet NaN of its sign, as the carry could otherwise turn it into an infinity.
/// </summary>
public static class BFloat16Rounding
{
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) & 0x8000 | 0x7FC0);
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    public static float FromBFloat16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Each value replaced by what it is after crossing a bfloat16 link: the in-process and shared-memory links' conversion.</summary>
    public static void RoundInPlace(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = FromBFloat16(ToBFloat16(values[i]));
    }
}
