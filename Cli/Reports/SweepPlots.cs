// The comparison picture of a sweep: smoothed loss per clip spec, and test accuracy per spec.
using ScottPlot;

namespace DistClip.Cli.Reports;

public static class SweepPlots
{
    /// <summary>
    /// Writes sweep_loss.png (the runs' smoothed training loss) and sweep_metric.png (one bar per spec of
    /// <paramref name="metricName"/>) into <paramref name="outputDir"/>; returns their paths.
    /// </summary>
    public static IReadOnlyList<string> Render(IReadOnlyList<RunRecord> runs, IReadOnlyList<double> metric, string metricName, string outputDir)
    {
        var loss = new Plot();
        foreach (var run in runs)
        {
            var line = loss.Add.Scatter(run.Steps.Select(s => (double)s.Step).ToArray(), RunPlots.MovingAverage(run.Steps.Select(s => s.Loss).ToArray(), 20));
            line.LegendText = run.Clip.ToString()!;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }
        RunPlots.Finish(loss, "Training loss by clipping policy (moving average of 20 steps)", "step", "loss");
        string lossPath = Path.Combine(outputDir, "sweep_loss.png");
        loss.SavePng(lossPath, 900, 520);

        var chart = new Plot();
        var bars = metric.Select((value, i) => new Bar { Position = i, Value = value, Label = $"{value:F3}" }).ToArray();
        chart.Add.Bars(bars);
        chart.Axes.Bottom.SetTicks(Enumerable.Range(0, runs.Count).Select(i => (double)i).ToArray(), runs.Select(r => r.Clip.ToString()!).ToArray());
        double low = Math.Max(0, metric.Min() - 0.05), high = Math.Max(1.0, metric.Max() + 0.05);
        chart.Axes.SetLimitsY(low, high);
        chart.Title($"{metricName} by clipping policy");
        chart.XLabel("clip spec");
        chart.YLabel(metricName);
        string metricPath = Path.Combine(outputDir, "sweep_metric.png");
        chart.SavePng(metricPath, 900, 520);
        return [lossPath, metricPath];
    }

    /// <summary>
    /// Writes sweep_robustness_SPEC.png: per clip spec (its threshold in its label), the metric clean and under
    /// <paramref name="perturbation"/> side by side; returns its path.
    /// </summary>
    public static string RenderRobustness(IReadOnlyList<string> specs, IReadOnlyList<double> clean, IReadOnlyList<double> robust, string metricName, string perturbation, string outputDir)
    {
        var plot = new Plot();
        var cleanBars = clean.Select((v, i) => new Bar { Position = 3 * i, Value = v, Label = $"{v:F3}", FillColor = Colors.SteelBlue }).ToArray();
        var robustBars = robust.Select((v, i) => new Bar { Position = 3 * i + 1, Value = v, Label = $"{v:F3}", FillColor = Colors.OrangeRed }).ToArray();
        var a = plot.Add.Bars(cleanBars);
        a.LegendText = $"{metricName}, clean";
        var b = plot.Add.Bars(robustBars);
        b.LegendText = $"{metricName} under {perturbation}";
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, specs.Count).Select(i => 3.0 * i + 0.5).ToArray(), specs.ToArray());
        plot.Axes.SetLimitsY(0, 1.1);
        RunPlots.Finish(plot, $"{metricName}: clean and under {perturbation}, by clipping policy and threshold", "clip spec", metricName);
        string path = Path.Combine(outputDir, $"sweep_robustness_{string.Concat(perturbation.Select(c => char.IsLetterOrDigit(c) || c == '.' ? c : '_'))}.png");
        plot.SavePng(path, 900, 520);
        return path;
    }
}
