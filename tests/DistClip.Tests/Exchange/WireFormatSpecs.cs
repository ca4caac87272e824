// The compressed wire's conversions: libtorch's rounding bit for bit, exact where a value is representable, no overflow.
using DistClip.Exchange.WireFormat;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DistClip.Tests.Exchange;

public class WireFormatSpecs
{
    /// <summary>Normal, subnormal, huge, tiny, signed zeros and the non-finite: what gradients can hold.</summary>
    private static float[] Values()
    {
        var random = new Random(23);
        var values = Enumerable.Range(0, 200_000).Select(_ => BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32))).ToList();
        values.AddRange(Enumerable.Range(0, 50_000).Select(_ => (float)(random.NextDouble() - 0.5) * 1e-3f));
        values.AddRange([0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity,
            1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), 65504f, 65519.996f, 65520f, 1e-8f]);
        return [.. values];
    }

    private static float[] ThroughTorch(float[] values, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        return tensor(values).to_type(dtype).to_type(ScalarType.Float32).data<float>().ToArray();
    }

    private static void AssertSameBits(float[] expected, float[] actual, float[] inputs)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) && float.IsNaN(actual[i])) continue;   // a NaN's payload is libtorch's own business
            Assert.True(BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]),
                $"{inputs[i]:R} (0x{BitConverter.SingleToUInt32Bits(inputs[i]):X8}): libtorch gives {expected[i]:R}, the wire {actual[i]:R}");
        }
    }

    [Fact]
    public void Should_round_to_bfloat16_as_libtorch_does_bit_for_bit()
    {
        var values = Values();
        var wire = values.ToArray();
        BFloat16Rounding.RoundInPlace(wire);
        AssertSameBits(ThroughTorch(values, ScalarType.BFloat16), wire, values);
    }

    [Fact]
    public void Should_carry_every_bfloat16_value_exactly_and_round_ties_to_even()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float value = BFloat16Rounding.FromBFloat16((ushort)bits);
            ushort back = BFloat16Rounding.ToBFloat16(value);
            if (float.IsNaN(value)) Assert.True(float.IsNaN(BFloat16Rounding.FromBFloat16(back)));
            else Assert.Equal(bits, back);
        }
        Assert.Equal(1f, BFloat16Rounding.FromBFloat16(BFloat16Rounding.ToBFloat16(1f + MathF.Pow(2, -8))));                       // halfway: to the even 1
        Assert.Equal(1f + MathF.Pow(2, -6), BFloat16Rounding.FromBFloat16(BFloat16Rounding.ToBFloat16(1f + 3 * MathF.Pow(2, -8)))); // halfway: to the even 1 + 2^-6
        Assert.True(float.IsNaN(BFloat16Rounding.FromBFloat16(BFloat16Rounding.ToBFloat16(BitConverter.UInt32BitsToSingle(0x7F80_0001)))));   // a NaN whose carry would make it infinite
    }

    [Fact]
    public void Should_round_to_binary16_as_libtorch_does_bit_for_bit_where_no_scale_is_needed()
    {
        var values = Values().Where(v => !float.IsFinite(v) || MathF.Abs(v) < 65504f).ToArray();
        Assert.Equal(0, Fp16Scaling.ScaleExponent(values));
        var halves = new Half[values.Length];
        var wire = new float[values.Length];
        Fp16Scaling.ToHalf(values, 0, halves);
        Fp16Scaling.FromHalf(halves, 0, wire);
        AssertSameBits(ThroughTorch(values, ScalarType.Float16), wire, values);
    }

    [Fact]
    public void Should_scale_a_binary16_transfer_by_a_power_of_two_so_that_nothing_finite_overflows()
    {
        float[] values = [3e6f, -1.5f, 70_000f, 0.25f, float.PositiveInfinity, float.NaN];
        int k = Fp16Scaling.ScaleExponent(values);
        Assert.Equal(6, k);   // 3e6 / 2^6 = 46875 ≤ 65504 < 3e6 / 2^5
        var halves = new Half[values.Length];
        var wire = new float[values.Length];
        Fp16Scaling.ToHalf(values, k, halves);
        Fp16Scaling.FromHalf(halves, k, wire);
        Assert.All(wire.Take(4), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(-1.5f, wire[1]);    // representable after the scale: exact
        Assert.Equal(0.25f, wire[3]);
        Assert.Equal(3_000_320f, wire[0]);   // 46875 rounded to binary16's 11 bits (46880: a spacing of 32 there), times 64
        Assert.Equal(float.PositiveInfinity, wire[4]);
        Assert.True(float.IsNaN(wire[5]));
        Assert.Equal(0, Fp16Scaling.ScaleExponent([65504f, -1f]));
    }

    [Theory]
    [InlineData("fp32", WireDtype.Fp32, 4)]
    [InlineData("BF16", WireDtype.Bf16, 2)]
    [InlineData(" fp16", WireDtype.Fp16, 2)]
    public void Should_parse_the_wire_dtypes(string name, WireDtype dtype, int bytes)
    {
        Assert.Equal(dtype, WireDtypes.Parse(name));
        Assert.Equal(bytes, dtype.BytesPerElement());
    }

    [Fact]
    public void Should_refuse_an_unknown_wire_dtype_naming_the_option() =>
        Assert.Contains("--wire-dtype 'int8' is not known: fp32, bf16, fp16", Assert.Throws<ArgumentException>(() => WireDtypes.Parse("int8")).Message);
}
