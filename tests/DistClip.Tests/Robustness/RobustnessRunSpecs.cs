// Robustness in runs, reports and sweeps, through the real CLI: summary.json, TensorBoard, the report's picture, --select.
using System.Globalization;
using System.Text.Json;
using DistClip.Tests.Cli;
using Xunit;

namespace DistClip.Tests.Robustness;

public sealed class RobustnessRunSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-robust-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Should_put_the_figures_of_train_eval_robustness_in_the_summary_tensorboard_and_report_as_eval_finds_them()
    {
        string run = Path.Combine(_dir, "run");
        var train = CliProcess.Run(Timeout, "train", "--model", "lenet", "--train-samples", "3200", "--steps", "100", "--eval-robustness", "gauss:0.1,fgsm:0.03", "--run-dir", run);
        Assert.True(train.ExitCode == 0, $"train exit {train.ExitCode}\n{train.Stdout}\n{train.Stderr}");
        Assert.Contains("test under fgsm:0.03: accuracy", train.Stdout);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "summary.json"))).RootElement;
        var figures = summary.GetProperty("Robustness").EnumerateArray().ToArray();
        Assert.Equal(["gauss:0.1", "fgsm:0.03"], figures.Select(f => f.GetProperty("spec").GetString()));

        // The same weights through `distclip eval`, as a user would check them, give the same figures.
        string json = Path.Combine(_dir, "eval.json");
        var eval = CliProcess.Run(Timeout, "eval", "--model", "lenet", "--weights", Path.Combine(run, "weights.safetensors"), "--robustness", "gauss:0.1,fgsm:0.03", "--json", json);
        Assert.True(eval.ExitCode == 0, $"eval exit {eval.ExitCode}\n{eval.Stderr}");
        var evaluated = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(summary.GetProperty("TestAccuracy").GetDouble(), evaluated.GetProperty("accuracy").GetDouble(), 4);
        foreach (var (fromRun, fromEval) in figures.Zip(evaluated.GetProperty("robustness").EnumerateArray()))
        {
            // Within a few images and float rounding: eval runs libtorch with its own thread count.
            Assert.True(Math.Abs(fromRun.GetProperty("accuracy").GetDouble() - fromEval.GetProperty("accuracy").GetDouble()) <= 3e-4, $"{fromRun} vs {fromEval}");
            Assert.Equal(fromRun.GetProperty("output_change_mean").GetDouble(), fromEval.GetProperty("output_change_mean").GetDouble(), 3);
        }

        var events = File.ReadAllBytes(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*").Single());
        foreach (var tag in new[] { "test_robustness/fgsm:0.03/accuracy", "test_robustness/gauss:0.1/output_change_mean", "test_robustness/gauss:0.1/output_change_p95" })
            Assert.True(IndexOf(events, System.Text.Encoding.UTF8.GetBytes(tag)) >= 0, $"TensorBoard has no {tag}");

        var report = CliProcess.Run(Timeout, "report", run);
        Assert.True(report.ExitCode == 0, report.Stderr);
        var png = Path.Combine(run, "plots", "robustness.png");
        Assert.True(File.Exists(png) && new FileInfo(png).Length > 15_000, $"{png} missing or empty\n{report.Stdout}");
    }

    private static int IndexOf(byte[] haystack, byte[] needle) =>
        Enumerable.Range(0, haystack.Length - needle.Length + 1).FirstOrDefault(i => haystack.AsSpan(i, needle.Length).SequenceEqual(needle), -1);

    [Fact]
    public void Should_select_the_spec_with_the_best_robust_accuracy_and_plot_it_beside_the_clean_one()
    {
        var run = CliProcess.Run(Timeout, "sweep", "--clips", "none,norm:0.2,value:0.001", "--model", "lenet", "--train-samples", "3000", "--steps", "60",
            "--select", "robust-acc:fgsm:0.03", "--out", _dir);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var csv = File.ReadAllLines(Path.Combine(_dir, "sweep.csv"));
        Assert.Equal("clip,test loss,test accuracy,clip rate,skipped,seconds,samples/s,fgsm:0.03 accuracy,fgsm:0.03 output change", csv[0]);
        var rows = csv[1..].Select(l => l.Split(',')).ToArray();
        var best = rows.MaxBy(r => double.Parse(r[7], CultureInfo.InvariantCulture))!;
        Assert.Contains($"selected: {best[0]} (test accuracy under fgsm:0.03 {best[7]})", run.Stdout);
        var png = Path.Combine(_dir, "sweep_robustness_fgsm_0.03.png");
        Assert.True(File.Exists(png) && new FileInfo(png).Length > 15_000, $"{png} missing or empty");

        // Without --select, the clean metric chooses, and no robustness is evaluated.
        string plain = Path.Combine(_dir, "plain");
        var byAccuracy = CliProcess.Run(Timeout, "sweep", "--clips", "none,norm:0.2", "--model", "mlp", "--hidden", "32", "--train-samples", "1000", "--steps", "20", "--out", plain);
        Assert.True(byAccuracy.ExitCode == 0, byAccuracy.Stderr);
        var plainRows = File.ReadAllLines(Path.Combine(plain, "sweep.csv"))[1..].Select(l => l.Split(',')).ToArray();
        Assert.Equal(7, plainRows[0].Length);
        var bestClean = plainRows.MaxBy(r => double.Parse(r[2], CultureInfo.InvariantCulture))!;
        Assert.Contains($"selected: {bestClean[0]} (test accuracy {bestClean[2]})", byAccuracy.Stdout);
    }
}
