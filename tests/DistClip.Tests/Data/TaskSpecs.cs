// Task metrics: regression reaches R² ≥ 0.95 through the real CLI; top-5 accuracy beyond 10 classes.
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Tests.Cli;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Data;

public class TaskSpecs
{
    [Fact]
    public void Should_reach_r2_of_095_on_synthetic_regression()
    {
        var run = CliProcess.Run(TimeSpan.FromMinutes(3), "train", "--dataset", "synthetic-regression", "--model", "mlp", "--epochs", "3",
            "--optimizer", "adam", "--lr", "0.001");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var r2 = double.Parse(run.Stdout.Split("r2 ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(r2 >= 0.95, $"R² {r2}\n{run.Stdout}");
        Assert.Contains("mae ", run.Stdout);
    }

    [Fact]
    public void Should_compute_r2_and_mae_independently_checked()
    {
        var data = new SyntheticRegression("r2-check", 50, 1);
        using var model = ModelZoo.Create(new ModelSpec("mlp", 1, 28, 28, 4, 8), 3);
        var result = Evaluation.Evaluate(model, data, batchSize: 7);
        var (x, y) = data.Batch(Enumerable.Range(0, 50).ToArray());
        using var noGrad = TorchSharp.torch.no_grad();
        model.eval();
        var prediction = model.forward(x).data<float>().ToArray();
        var target = y.data<float>().ToArray();
        double mean = target.Average(v => (double)v);
        double r2 = 1 - prediction.Zip(target, (p, t) => (p - (double)t) * (p - t)).Sum() / target.Sum(t => (t - mean) * (t - mean));
        double mae = prediction.Zip(target, (p, t) => Math.Abs(p - (double)t)).Average();
        Assert.Equal(r2, result.R2!.Value, 4);
        Assert.Equal(mae, result.Mae!.Value, 5);
        Assert.Null(result.Accuracy);
    }

    [Fact]
    public void Should_report_top5_accuracy_beyond_ten_classes_only()
    {
        var twenty = SyntheticClassification.Create("twenty", 60, 1, 28, 28, 20, 2);
        using var model = ModelZoo.Create(new ModelSpec("mlp", 1, 28, 28, 20, 16), 1);
        var result = Evaluation.Evaluate(model, twenty);
        Assert.NotNull(result.Top5Accuracy);
        Assert.True(result.Top5Accuracy >= result.Accuracy, $"top-5 {result.Top5Accuracy} < top-1 {result.Accuracy}");
        Assert.Contains("top-5", result.Describe());
        using var ten = ModelZoo.Create(new ModelSpec("mlp", 1, 28, 28, 10, 16), 1);
        Assert.Null(Evaluation.Evaluate(ten, TestData.Synthetic(30)).Top5Accuracy);
    }
}
