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
}
