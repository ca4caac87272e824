// `distclip sweep` and `distclip report` through the real CLI: the table, the CSV and the pictures.
using System.Buffers.Binary;
using Xunit;

namespace DistClip.Tests.Cli;

public sealed class SweepAndReportSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-sweep-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Asserts a real PNG of the plots' size, with more than a blank canvas in it.</summary>
    private static void AssertPicture(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.Equal((900, 520), (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))));
        Assert.True(bytes.Length > 15_000, $"{path} is only {bytes.Length} bytes: an empty plot?");
    }

    [Fact]
    public void Should_compare_four_clip_specs_in_a_table_a_csv_and_pictures_then_report_one_run()
    {
        var run = CliProcess.Run(Timeout, "sweep", "--clips", "none,norm:0.5,agc:0.01,auto:10", "--model", "lenet",
            "--train-samples", "3000", "--steps", "60", "--out", _dir);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Matches(@"clip\s+test loss\s+test accuracy\s+clip rate\s+skipped\s+seconds\s+samples/s", run.Stdout);

        var csv = File.ReadAllLines(Path.Combine(_dir, "sweep.csv"));
        Assert.Equal(5, csv.Length);
        Assert.Equal("clip,test loss,test accuracy,clip rate,skipped,seconds,samples/s", csv[0]);
        Assert.Equal(["none", "norm:0.5:2", "agc:0.01", "auto:10:2"], csv[1..].Select(l => l.Split(',')[0]));
        Assert.Equal("0.000", csv[1].Split(',')[3]);                             // no clipping, no clip rate
        Assert.True(double.Parse(csv[4].Split(',')[3], System.Globalization.CultureInfo.InvariantCulture) > 0.5, csv[4]);  // AutoClip at the 10th percentile clips most steps
        AssertPicture(Path.Combine(_dir, "sweep_loss.png"));
        AssertPicture(Path.Combine(_dir, "sweep_metric.png"));

        var runDir = Directory.GetDirectories(_dir).Single(d => d.EndsWith("norm_0.5_2"));
        var report = CliProcess.Run(Timeout, "report", runDir);
        Assert.True(report.ExitCode == 0, report.Stderr);
        foreach (var name in new[] { "loss.png", "grad_norm.png", "clip_rate.png" }) AssertPicture(Path.Combine(runDir, "plots", name));
        Assert.True(Directory.GetFiles(Path.Combine(runDir, "tensorboard"), "events.out.tfevents.*").Single() is var events && new FileInfo(events).Length > 1000);

        var missing = CliProcess.Run(Timeout, "report", Path.Combine(_dir, "nothing-here"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("metrics.jsonl is missing", missing.Stderr);
    }

    /// <summary>Each run's config.yaml is a `train` config that trains that run again, bit for bit: it carried the sweep's
    /// --min-workers, which `train --config` refuses as an unknown key.</summary>
    [Fact]
    public void Should_write_each_run_a_config_that_train_takes_and_trains_to_the_same_weights()
    {
        var sweep = CliProcess.Run(Timeout, "sweep", "--clips", "none,norm:0.5", "--model", "mlp", "--hidden", "32", "--dataset", "synthetic",
            "--steps", "8", "--min-workers", "1", "--out", _dir);
        Assert.True(sweep.ExitCode == 0, $"exit {sweep.ExitCode}\n{sweep.Stdout}\n{sweep.Stderr}");
        var runDir = Path.Combine(_dir, "01-norm_0.5_2");
        var again = Path.Combine(_dir, "again");
        var train = CliProcess.Run(Timeout, "train", "--config", Path.Combine(runDir, "config.yaml"), "--run-dir", again);
        Assert.True(train.ExitCode == 0, $"train --config {runDir}/config.yaml: exit {train.ExitCode}\n{train.Stderr}");
        Assert.Equal(File.ReadAllBytes(Path.Combine(runDir, "weights.safetensors")), File.ReadAllBytes(Path.Combine(again, "weights.safetensors")));
    }

    [Fact]
    public void Should_judge_specs_by_k_fold_cross_validation()
    {
        var run = CliProcess.Run(Timeout, "sweep", "--clips", "none,norm:0.5", "--folds", "3", "--model", "mlp", "--hidden", "32",
            "--train-samples", "900", "--steps", "20", "--out", _dir);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var csv = File.ReadAllLines(Path.Combine(_dir, "sweep.csv"));
        Assert.Equal("clip,val (3-fold) loss,val (3-fold) accuracy,clip rate,skipped,seconds,samples/s", csv[0]);
        Assert.All(csv[1..], row => Assert.Contains(" ± ", row));
        foreach (var spec in new[] { "00-none", "01-norm_0.5_2" })
            for (int f = 0; f < 3; f++)
                Assert.Equal(20, File.ReadAllLines(Path.Combine(_dir, spec, $"fold-{f}", "metrics.jsonl")).Length);
        AssertPicture(Path.Combine(_dir, "sweep_metric.png"));
        Assert.Contains("--folds", CliProcess.Run(Timeout, "sweep", "--clips", "none", "--folds", "1").Stderr);
    }
}
