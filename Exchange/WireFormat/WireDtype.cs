// What the values that cross a link are: float32 as computed (exact), or rounded to a 16-bit type to halve the bytes.
namespace DistClip.Exchange.WireFormat;

/// <summary>The element type of gradients and parameters on every link (<c>--wire-dtype</c>); sums and master weights stay float32.</summary>
public enum WireDtype
{
    /// <summary>float32, bit for bit: the default, exact.</summary>
    Fp32,

    /// <summary>bfloat16: float32's range and 8 significant bits, rounded to nearest even.</summary>
    Bf16,

    /// <summary>IEEE binary16: 11 significant bits and a range to 65504, reached through a power-of-two scale per transfer.</summary>
    Fp16,
}

public static class WireDtypes
{
    public static IReadOnlyList<string> Names { get; } = ["fp32", "bf16", "fp16"];

    /// <summary>The dtype a <c>--wire-dtype</c> value names; anything else is one clear error naming the option.</summary>
    public static WireDtype Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fp32" => WireDtype.Fp32,
        "bf16" => WireDtype.Bf16,
        "fp16" => WireDtype.Fp16,
        _ => throw new ArgumentException($"--wire-dtype '{name}' is not known: {string.Join(", ", Names)}."),
    };

    public static int BytesPerElement(this WireDtype dtype) => dtype == WireDtype.Fp32 ? 4 : 2;
}
