// The real CLI end to end: train, metrics, safetensors, eval, and one clear line for bad input.
using DistClip.Core;
using System.Text.Json;
using DistClip.Models;
using Xunit;

namespace DistClip.Tests.Cli;

public sealed class CliSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Should_train_write_metrics_and_weights_then_evaluate_them()
    {
        var metrics = Path.Combine(_dir, "m.jsonl");
        var weights = Path.Combine(_dir, "w.safetensors");
        var run = CliProcess.Run(Timeout, "train", "--model", "mlp", "--hidden", "32", "--train-samples", "2000", "--epochs", "1",
            "--workers", "3", "--global-batch", "100", "--clip", "auto:50", "--metrics", metrics, "--save", weights, "--log-every", "5");

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var lines = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(20, lines.Length);
        Assert.Equal(Enumerable.Range(0, 20), lines.Select(l => l.GetProperty("step").GetInt32()));
        foreach (var key in new[] { "loss", "grad_norm", "clip_coef", "clipped", "clipped_units", "units", "clip_threshold", "skipped", "samples", "seconds" })
            Assert.True(lines[0].TryGetProperty(key, out _), $"metrics line lacks '{key}': {lines[0]}");
        Assert.All(lines, l => Assert.Equal(100, l.GetProperty("samples").GetInt32()));
        Assert.Contains(lines, l => l.GetProperty("clipped").GetBoolean());  // AutoClip at the median binds about half the time
        Assert.Contains("clip: 'auto:50'", run.Stdout);
        Assert.True(lines[^1].GetProperty("loss").GetDouble() < lines[0].GetProperty("loss").GetDouble(), "loss did not fall");
        Assert.Contains("step     20/20", run.Stdout);
        Assert.Contains("test: loss", run.Stdout);
        var trainAccuracy = double.Parse(run.Stdout.Split("accuracy ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

        var eval = CliProcess.Run(Timeout, "eval", "--model", "mlp", "--hidden", "32", "--weights", weights, "--dataset", "fashion-mnist");
        Assert.True(eval.ExitCode == 0, $"eval exit {eval.ExitCode}\n{eval.Stderr}");
        Assert.Contains($"accuracy {trainAccuracy:F4}", eval.Stdout);
        Assert.True(trainAccuracy > 0.4, $"test accuracy {trainAccuracy} after an epoch on 2000 samples (chance is 0.1)");
        Assert.Equal(4, Safetensors.Read(weights).Count);
    }

    [Fact]
    public void Should_save_and_evaluate_the_moving_average_beside_the_raw_weights()
    {
        var weights = Path.Combine(_dir, "w.safetensors");
        var run = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--steps", "30", "--ema", "0.9", "--save", weights);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("test (moving average): loss", run.Stdout);
        var average = Path.Combine(_dir, "w.ema.safetensors");
        Assert.NotEqual(Safetensors.Read(weights)["fc1.weight"].Values, Safetensors.Read(average)["fc1.weight"].Values);
        Assert.Contains("--ema", CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--ema", "1.5").Stderr);
    }

    [Fact]
    public void Should_train_bit_identical_weights_in_separate_processes()
    {
        // Synthetic data and augmentation are seeded by stable hashes, not .NET's per-process ones.
        string[] args = ["train", "--dataset", "synthetic", "--model", "mlp", "--steps", "20", "--augment", "flip,crop:2", "--no-eval"];
        var a = CliProcess.Run(Timeout, [.. args, "--save", Path.Combine(_dir, "a.safetensors")]);
        var b = CliProcess.Run(Timeout, [.. args, "--save", Path.Combine(_dir, "b.safetensors")]);
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, a.Stderr + b.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "a.safetensors")), File.ReadAllBytes(Path.Combine(_dir, "b.safetensors")));
    }

    [Fact]
    public void Should_resume_from_saved_weights()
    {
        var weights = Path.Combine(_dir, "w.safetensors");
        var first = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--steps", "30", "--save", weights);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var resumed = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--steps", "1", "--lr", "1e-9", "--init-from", weights);
        var fresh = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--steps", "1", "--lr", "1e-9");
        string Accuracy(CliRun r) => r.Stdout.Split("accuracy ")[1][..6];
        Assert.Equal(Accuracy(first), Accuracy(resumed));
        Assert.NotEqual(Accuracy(first), Accuracy(fresh));
    }

    [Fact]
    public void The_benchmarks_should_measure_every_configuration_they_report()
    {
        var bench = CliProcess.Run(Timeout, "bench", "--model", "mlp", "--dataset", "synthetic", "--global-batch", "32", "--steps", "4", "--warmup", "1", "--exchange", "sharded");
        Assert.True(bench.ExitCode == 0, bench.Stderr);
        foreach (var row in new[] { "single process, 1 thread", "single process, 2 threads", "parallel ceiling", "DistClip embedded (sharded), 2 workers" })
            Assert.Matches($@"\|[^|]*{System.Text.RegularExpressions.Regex.Escape(row)}[^|]*\| [1-9]\d* \| [1-9]\d*, [1-9]\d* \|", bench.Stdout);
        Assert.Matches(@"DistClip / \(2 x single-process 1-thread\) = \*\*\d\.\d{3}\*\*", bench.Stdout);

        var network = CliProcess.Run(Timeout, "bench-network", "--elements", "100000,200000", "--raw-bytes", "10000000", "--e2e-steps", "0");
        Assert.True(network.ExitCode == 0, network.Stderr);
        Assert.Matches(@"\| \(a\) raw TCP[^|]*\| \d+\.\d\d \| 1 \|", network.Stdout);
        // Each size is measured on channels of its own: the echo must answer the second size's, not the first's (closed).
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(network.Stdout, @"\| \(b\) bulk channel[^|]*\| \d+\.\d\d \| \d+\.\d\d \|").Count);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(network.Stdout, @"\| \(b-tls\) [^|]*OpenSSL \d+\.\d+\.\d+[^|]*\| \d+\.\d\d \| \d+\.\d\d \|").Count);
        Assert.Matches(@"\| \(b'\) Akka.Remote chunks[^|]*\| \d+\.\d\d \| \d+\.\d\d \|", network.Stdout);
    }

    [Theory]
    [InlineData("--model resnet9000", "--model 'resnet9000'")]
    [InlineData("--clip-norm -1", "--clip-norm")]
    [InlineData("--workers 0", "--workers")]
    [InlineData("--clip-norm-type 0.3 --clip-norm 1", "--clip-norm-type")]
    [InlineData("--dataset mnist --data-dir /nonexistent", "/nonexistent")]
    [InlineData("--init-from /nonexistent.safetensors", "/nonexistent.safetensors")]
    [InlineData("--optimizer lion", "--optimizer")]
    [InlineData("--workers two", "two")]
    [InlineData("--clip agc:fast", "'agc:fast'")]
    [InlineData("--clip layer:1 --clip-norm 1", "alternatives")]
    [InlineData("--workers 2 --cpus 0", "--cpus")]
    [InlineData("--workers 2 --cpus 0,x", "'x'")]
    [InlineData("--workers 2 --cpus 0,4096", "CPU 4096")]
    [InlineData("--steps many", "'--steps' as a whole number")]
    [InlineData("--lr fast", "'--lr' as a number")]
    [InlineData("--dataset mnist --data-dir /etc/hostname", "--data-dir /etc/hostname is a file")]
    public void Should_reject_bad_input_with_one_clear_line(string args, string named)
    {
        string[] dataset = args.Contains("--dataset") ? [] : ["--dataset", "synthetic"];
        var run = CliProcess.Run(Timeout, ["train", .. dataset, .. args.Split(' ')]);
        Assert.Equal(2, run.ExitCode);
        var errorLines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errorLines.Length == 1, $"expected one line on stderr, got:\n{run.Stderr}");
        Assert.Contains(named, errorLines[0]);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void Should_list_every_model_and_data_set_in_the_help()
    {
        foreach (var command in new[] { "train", "coordinator", "sweep" })
        {
            var help = CliProcess.Run(Timeout, command, "--help").Stdout;
            foreach (var name in Models.Zoo.ModelZoo.Names.Concat(Models.Data.DatasetCatalog.Names))
                Assert.True(help.Contains(name, StringComparison.Ordinal), $"{command} --help does not list '{name}'");
        }
    }

    [Fact]
    public void Should_stop_with_a_clear_message_on_a_non_finite_norm_under_error_policy()
    {
        var run = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--steps", "20", "--lr", "1e30", "--momentum", "0", "--nonfinite", "error");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("global gradient norm", run.Stderr);
        Assert.Contains("--nonfinite skip", run.Stderr);
    }

    [Fact]
    public void Should_show_a_live_display_on_a_terminal_and_plain_lines_otherwise()
    {
        // util-linux's script gives the program a pseudo-terminal, as a user's shell would.
        var dll = Path.Combine(AppContext.BaseDirectory, "distclip.dll");
        var info = new System.Diagnostics.ProcessStartInfo("script", ["-qec", $"dotnet {dll} train --dataset synthetic --model mlp --steps 200 --no-eval --log-every 50", "/dev/null"])
        {
            RedirectStandardOutput = true, UseShellExecute = false,
            RedirectStandardInput = true,  // script needs an open stdin; CI may run the tests with none
        };
        info.Environment["TERM"] = "xterm-256color";
        using var process = System.Diagnostics.Process.Start(info)!;
        string screen = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(Timeout), "the run under a terminal did not finish");
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("\u001b[", screen);                    // redrawn in place with escape sequences
        Assert.Contains("200/200", screen);
        Assert.Contains("samples/s", screen);
        Assert.DoesNotContain("step     50/200", screen);      // not the plain lines
        Assert.Contains("done: 200 steps", screen);

        var plain = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--steps", "200", "--no-eval", "--log-every", "50");
        Assert.Contains("step     50/200", plain.Stdout);
        Assert.DoesNotContain("\u001b[", plain.Stdout);
    }
}
