// PNG plots of a run (ScottPlot): loss, global norm before/after clipping with the threshold, clip rate.
using DistClip.Training.Clipping;
using ScottPlot;

namespace DistClip.Cli.Reports;

/// <summary>Renders the plots of <c>distclip report</c> and <c>distclip sweep</c>.</summary>
public static class RunPlots
{
    private const int Width = 900, Height = 520;

    /// <summary>
    /// Writes loss.png, grad_norm.png and clip_rate.png into <paramref name="outputDir"/> — and robustness.png when the
    /// run evaluated under perturbations (<c>--eval-robustness</c>); returns their paths.
    /// </summary>
    public static IReadOnlyList<string> Render(RunRecord run, string outputDir)
    {
        Directory.CreateDirectory(outputDir);
        double[] steps = run.Steps.Select(s => (double)s.Step).ToArray();
        string title = run.Summary is { TestAccuracy: double acc } ? $"clip {run.Clip}, test accuracy {acc:F4}" : $"clip {run.Clip}";

        var loss = new Plot();
        var raw = loss.Add.Scatter(steps, run.Steps.Select(s => s.Loss).ToArray());
        raw.LegendText = "loss per step";
        raw.MarkerSize = 0;
        var smooth = loss.Add.Scatter(steps, MovingAverage(run.Steps.Select(s => s.Loss).ToArray(), 20));
        smooth.LegendText = "moving average (20 steps)";
        smooth.MarkerSize = 0;
        smooth.LineWidth = 2;
        Finish(loss, "Training loss — " + title, "step", "loss (mean over the global batch)");
        string lossPath = Path.Combine(outputDir, "loss.png");
        loss.SavePng(lossPath, Width, Height);

        var norm = new Plot();
        var before = norm.Add.Scatter(steps, run.Steps.Select(s => s.GradNorm).ToArray());
        before.LegendText = "global norm before clipping";
        before.MarkerSize = 0;
        var after = norm.Add.Scatter(steps, run.Steps.Select(s => s.GradNormClipped).ToArray());
        after.LegendText = "global norm after clipping";
        after.MarkerSize = 0;
        switch (run.Clip)
        {
            case ClipPolicy.GlobalNorm g:
                var line = norm.Add.HorizontalLine(g.MaxNorm);
                line.LegendText = $"threshold {g.MaxNorm}";
                line.LinePattern = LinePattern.Dashed;
                break;
            case ClipPolicy.Auto:
                var threshold = norm.Add.Scatter(steps, run.Steps.Select(s => s.Threshold).ToArray());
                threshold.LegendText = "AutoClip threshold";
                threshold.MarkerSize = 0;
                threshold.LinePattern = LinePattern.Dashed;
                break;
        }
        Finish(norm, "Global gradient norm — " + title, "step", "global gradient norm");
        string normPath = Path.Combine(outputDir, "grad_norm.png");
        norm.SavePng(normPath, Width, Height);

        var rate = new Plot();
        var clipped = rate.Add.Scatter(steps, MovingAverage(run.Steps.Select(s => s.Clipped ? 1.0 : 0.0).ToArray(), 20));
        clipped.LegendText = "share of clipped steps (moving window of 20)";
        clipped.MarkerSize = 0;
        rate.Axes.SetLimitsY(-0.05, 1.05);
        Finish(rate, "Clip rate — " + title, "step", "clip rate");
        string ratePath = Path.Combine(outputDir, "clip_rate.png");
        rate.SavePng(ratePath, Width, Height);
        if (run.Summary is { Robustness: { Count: > 0 } figures })
            return [lossPath, normPath, ratePath, RenderRobustness(run.Summary.TestAccuracy, figures, title, outputDir)];
        return [lossPath, normPath, ratePath];
    }

    /// <summary>robustness.png: test accuracy clean and under each perturbation, with each one's mean output change.</summary>
    private static string RenderRobustness(double? clean, IReadOnlyList<Models.Robustness.RobustnessFigure> figures, string title, string outputDir)
    {
        var plot = new Plot();
        var labels = new List<string>();
        var bars = new List<Bar>();
        if (clean is double c)
        {
            bars.Add(new Bar { Position = 0, Value = c, Label = $"{c:F3}", FillColor = Colors.Gray });
            labels.Add("clean");
        }
        foreach (var f in figures)
        {
            double value = f.Accuracy ?? double.NaN;
            bars.Add(new Bar { Position = labels.Count, Value = value, Label = $"{value:F3} (Δ {f.OutputChangeMean:F2})" });
            labels.Add(f.Spec);
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray(), labels.ToArray());
        plot.Axes.SetLimitsY(0, 1.1);
        plot.Title("Test accuracy under perturbations (Δ: mean relative output change) — " + title);
        plot.XLabel("perturbation");
        plot.YLabel("test accuracy");
        string path = Path.Combine(outputDir, "robustness.png");
        plot.SavePng(path, Width, Height);
        return path;
    }

    internal static void Finish(Plot plot, string title, string x, string y)
    {
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend(Alignment.UpperRight);
    }

    /// <summary>Mean of the last <paramref name="window"/> values up to each point (fewer at the start).</summary>
    public static double[] MovingAverage(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
