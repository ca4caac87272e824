// AutoClip's threshold: a percentile of the global norms seen so far.
namespace DistClip.Training.Clipping;

/// <summary>The history of global gradient norms and its percentile (Seetharaman et al. 2020).</summary>
public sealed class AutoClipHistory
{
    private readonly List<double> _sorted = [];

    public int Count => _sorted.Count;

    /// <summary>The finite norms seen so far, ascending (what a checkpoint keeps).</summary>
    public IReadOnlyList<double> Norms => _sorted;

    /// <summary>Replaces the history with <paramref name="norms"/> (a checkpoint's).</summary>
    public void Restore(IEnumerable<double> norms)
    {
        _sorted.Clear();
        foreach (var norm in norms) Add(norm);
    }

    /// <summary>Adds a finite norm (a non-finite one is ignored: it never becomes a threshold).</summary>
    public void Add(double norm)
    {
        if (!double.IsFinite(norm)) return;
        int at = _sorted.BinarySearch(norm);
        _sorted.Insert(at < 0 ? ~at : at, norm);
    }

    /// <summary>The <paramref name="percentile"/>-th percentile (0–100) with numpy's default linear interpolation.</summary>
    public double Percentile(double percentile) => Percentile(_sorted, percentile);

    /// <summary>numpy.percentile(values, p) for values sorted ascending.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percentile)
    {
        if (sorted.Count == 0) throw new InvalidOperationException("No norms seen yet.");
        if (percentile is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "must be in [0, 100]");
        double rank = percentile / 100 * (sorted.Count - 1);
        int lower = (int)Math.Floor(rank), upper = (int)Math.Ceiling(rank);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
    }
}
