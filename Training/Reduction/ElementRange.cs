// A contiguous run of elements of the exchange vector.
namespace DistClip.Training.Reduction;

/// <summary>Elements [<see cref="Start"/>, <see cref="End"/>) of the exchange vector.</summary>
public readonly record struct ElementRange(int Start, int Length)
{
    public int End => Start + Length;

    /// <summary>This range of <paramref name="vector"/>.</summary>
    public ReadOnlySpan<float> Of(ReadOnlySpan<float> vector) => vector.Slice(Start, Length);

    /// <summary>This range of <paramref name="vector"/>, to write.</summary>
    public Span<float> Of(Span<float> vector) => vector.Slice(Start, Length);

    public override string ToString() => $"[{Start}, {End})";
}
