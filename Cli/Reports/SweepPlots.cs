// The comparison picture of a sweep: smoothed loss per clip spec, and test accuracy per spec.
using ScottPlot;

namespace DistClip.Cli.Reports;

public static class SweepPlots
{
    /// <summary>Writes sweep_loss.png and sweep_accuracy.png into <paramref name="outputDir"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Render(IReadOnlyList<RunRecord> runs, string outputDir)
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

        var accuracy = new Plot();
        var bars = runs.Select((run, i) => new Bar { Position = i, Value = run.Summary?.TestAccuracy ?? 0, Label = $"{run.Summary?.TestAccuracy:F3}" }).ToArray();
        accuracy.Add.Bars(bars);
        accuracy.Axes.Bottom.SetTicks(Enumerable.Range(0, runs.Count).Select(i => (double)i).ToArray(), runs.Select(r => r.Clip.ToString()!).ToArray());
        double low = Math.Max(0, runs.Min(r => r.Summary?.TestAccuracy ?? 0) - 0.05);
        accuracy.Axes.SetLimitsY(low, 1.0);
        accuracy.Title("Test accuracy by clipping policy");
        accuracy.XLabel("clip spec");
        accuracy.YLabel("test accuracy");
        string accuracyPath = Path.Combine(outputDir, "sweep_accuracy.png");
        accuracy.SavePng(accuracyPath, 900, 520);
        return [lossPath, accuracyPath];
    }
}
