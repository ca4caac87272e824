// Who owns which elements of the exchange vector in the sharded exchange: N balanced element ranges.
namespace DistClip.Training.Reduction;

/// <summary>
/// The exchange vector of <see cref="Length"/> elements cut into one contiguous range per owner, balanced to within one
/// alignment unit; range k is owned (reduced) by member k of the membership the plan was made for. Element ranges, not
/// tensors: tensor-aligned ranges cannot balance (in <c>cnn</c> one tensor is 98 % of the parameters). The per-element
/// arithmetic of the reduction does not depend on where a range starts, so any plan gives the central reduction's bits.
/// </summary>
public sealed record RangePlan
{
    /// <summary>Range boundaries fall on multiples of this many elements (64 bytes: a cache line, whole SIMD vectors).</summary>
    public const int Alignment = 16;

    public long Version { get; }
    public int Length { get; }
    public IReadOnlyList<ElementRange> Ranges { get; }
    public int Owners => Ranges.Count;

    private RangePlan(long version, int length, ElementRange[] ranges) => (Version, Length, Ranges) = (version, length, ranges);

    /// <summary>
    /// <paramref name="owners"/> ranges covering [0, <paramref name="length"/>) in order, each within one
    /// <see cref="Alignment"/> of length/owners; a range may be empty when there are more owners than aligned units.
    /// </summary>
    public static RangePlan Balanced(int length, int owners, long version = 0)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "must not be negative");
        if (owners < 1) throw new ArgumentOutOfRangeException(nameof(owners), owners, "must be at least 1");
        long units = (length + Alignment - 1L) / Alignment;
        var ranges = new ElementRange[owners];
        for (int k = 0; k < owners; k++)
        {
            int start = (int)Math.Min(length, units * k / owners * Alignment);
            int end = (int)Math.Min(length, units * (k + 1) / owners * Alignment);
            ranges[k] = new ElementRange(start, end - start);
        }
        return new RangePlan(version, length, ranges);
    }

    /// <summary>The owner of element <paramref name="element"/>.</summary>
    public int OwnerOf(int element)
    {
        if ((uint)element >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(element), element, $"must be in [0, {Length})");
        int lo = 0, hi = Owners - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Ranges[mid].Start <= element) lo = mid; else hi = mid - 1;
        }
        while (Ranges[lo].Length == 0 || Ranges[lo].End <= element) lo++;  // empty ranges share a start
        return lo;
    }
}
