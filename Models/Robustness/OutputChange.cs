// How far a perturbation moves a model's output: ‖f(x+δ) − f(x)‖₂ / ‖f(x)‖₂ per sample, and its summaries.
using static TorchSharp.torch;

namespace DistClip.Models.Robustness;

/// <summary>The relative output change per sample and the statistics reported over a data set.</summary>
public static class OutputChange
{
    /// <summary>
    /// ‖f(x+δ) − f(x)‖₂ / ‖f(x)‖₂ for each sample, over all of its outputs (logits of a classifier, predictions of a
    /// regression, every pixel's logits of a segmentation), in float64.
    /// </summary>
    /// <param name="clean">f(x), (B, …).</param>
    /// <param name="perturbed">f(x+δ), the same shape.</param>
    public static double[] PerSample(Tensor clean, Tensor perturbed)
    {
        using var scope = NewDisposeScope();
        var c = clean.flatten(1).to_type(ScalarType.Float64);       // (B, outputs)
        var p = perturbed.flatten(1).to_type(ScalarType.Float64);
        var ratio = (p - c).square().sum(1).sqrt() / c.square().sum(1).sqrt();   // (B)
        return ratio.data<double>().ToArray();
    }

    /// <summary>The nearest-rank percentile: the smallest value with at least <paramref name="percent"/> % of the values at or below it.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double percent)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
