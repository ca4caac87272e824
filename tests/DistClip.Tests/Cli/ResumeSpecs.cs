// Checkpoints and exact resume, through the real CLI: a run stopped by a signal and resumed ends bit-identical.
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cli;

/// <summary>
/// A run stopped with SIGTERM at a step the test does not choose, then resumed with <c>--resume</c>, must end with
/// the same bits — weights and moving average — as the run that was never stopped, with every piece of state a
/// checkpoint holds in play (Adam's moments and step counts, a cosine schedule with warm-up, EMA, AutoClip's
/// history, shuffling across epochs). Checkpoints that are corrupt, truncated or of another model are refused by
/// name and the previous one is used; a flag that contradicts the checkpoint is an error naming it.
/// </summary>
public sealed class ResumeSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-resume-").FullName;

    // Every piece of a checkpoint's state matters to this run's result.
    private static string[] Run => RunOf(700);

    private static string[] RunOf(int steps, string model = "lenet", string lr = "0.002", int checkpointEvery = 100) =>
    [
        "train", "--model", model, "--dataset", "fashion-mnist", "--train-samples", "2000", "--steps", $"{steps}", "--global-batch", "32",
        "--optimizer", "adam", "--lr", lr, "--warmup-steps", "40", "--lr-schedule", "cosine", "--ema", "0.99", "--clip", "auto:90",
        "--workers", "2", "--no-eval", "--log-every", "25", "--checkpoint-every", $"{checkpointEvery}",
    ];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(string name) => Path.Combine(_dir, name);

    private CliRun Uninterrupted()
    {
        var run = CliProcess.Run(Timeout, [.. Run, "--save", At("full.safetensors")]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return run;
    }

    /// <summary>Starts the run, stops it with SIGTERM after a random number of progress lines, and returns the step it stopped at.</summary>
    private long StoppedRun(string runDir)
    {
        using var train = CliProcess.Start([.. Run, "--run-dir", runDir]);
        int lines = TestSeed.Random(output).Next(2, 20);
        train.WaitForOutput("step ", lines, Timeout);
        train.Signal("TERM");
        var stopped = train.Finish(Timeout);
        Assert.True(stopped.ExitCode == 75, $"exit {stopped.ExitCode}, expected 75 (stopped by a signal, a checkpoint written)\n{stopped.Stderr}");
        Assert.Contains("resume with --resume auto", stopped.Stderr);
        var checkpoint = Directory.GetDirectories(Path.Combine(runDir, "checkpoints")).Max()!;
        long step = long.Parse(Path.GetFileName(checkpoint)["step-".Length..]);
        output.WriteLine($"stopped after {lines} progress lines, at step {step}: {stopped.Stderr.Trim()}");
        Assert.Contains($"after {step} of 700 steps", stopped.Stderr);
        return step;
    }

    private static void AssertSameBytes(string expected, string actual) =>
        Assert.True(File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from {expected}");

    [Fact]
    public void Should_resume_a_run_stopped_by_SIGTERM_to_the_same_bits_as_the_uninterrupted_run()
    {
        Uninterrupted();
        var runDir = At("run");
        long step = StoppedRun(runDir);
        Assert.InRange(step, 1, 699);

        // The configuration comes from the checkpoint: only where it is and where the weights go are given.
        var resumed = CliProcess.Run(Timeout, "train", "--resume", "auto", "--run-dir", runDir, "--save", At("resumed.safetensors"), "--no-eval");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"resuming from {Path.Combine(runDir, "checkpoints", $"step-{step:D8}")}: step {step} of 700", resumed.Stdout);
        AssertSameBytes(At("full.safetensors"), At("resumed.safetensors"));
        AssertSameBytes(At("full.ema.safetensors"), At("resumed.ema.safetensors"));
    }

    [Fact]
    public void Should_refuse_corrupt_truncated_and_foreign_checkpoints_and_use_the_previous_valid_one()
    {
        var dir = At("checkpoints");
        var written = CliProcess.Run(Timeout, [.. RunOf(300), "--checkpoint-dir", dir, "--keep-checkpoints", "5"]);
        Assert.True(written.ExitCode == 0, written.Stderr);
        var foreign = CliProcess.Run(Timeout, [.. RunOf(500, "mlp", checkpointEvery: 500), "--checkpoint-dir", At("other")]);
        Assert.True(foreign.ExitCode == 0, foreign.Stderr);
        Directory.Move(Path.Combine(At("other"), "step-00000500"), Path.Combine(dir, "step-00000500"));   // newest: another model
        var flipped = Path.Combine(dir, "step-00000300", "weights.safetensors");                         // corrupt: one byte changed
        var bytes = File.ReadAllBytes(flipped);
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(flipped, bytes);
        var truncated = Path.Combine(dir, "step-00000200", "optimizer.dat");                            // truncated
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..100]);

        var resumed = CliProcess.Run(Timeout, [.. RunOf(300), "--resume", dir, "--checkpoint-dir", At("after")]);

        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("step-00000500 refused: it holds another model", resumed.Stdout);
        Assert.Contains("step-00000300 refused: weights.safetensors does not match its checksum (corrupt)", resumed.Stdout);
        Assert.Contains("step-00000200 refused: optimizer.dat has 100 bytes", resumed.Stdout);
        Assert.Contains($"resuming from {Path.Combine(dir, "step-00000100")}: step 100 of 300", resumed.Stdout);
    }

    [Fact]
    public void Should_refuse_a_flag_that_contradicts_the_checkpoint_naming_it()
    {
        var dir = At("checkpoints");
        Assert.Equal(0, CliProcess.Run(Timeout, [.. RunOf(100), "--checkpoint-dir", dir]).ExitCode);

        var run = CliProcess.Run(Timeout, [.. RunOf(100, lr: "0.1"), "--resume", dir]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--lr 0.1 contradicts the checkpoint, whose run has 0.002", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    /// <summary>
    /// A checkpoint records the compute it was written on, and the run's summary its compute: a run resumed with other
    /// intra-op threads (which the configuration allows) goes on, but says it is no longer bit-identical to the
    /// uninterrupted run; resumed on the same compute it says nothing of the kind.
    /// </summary>
    [Fact]
    public void Should_say_so_when_a_run_resumes_on_other_compute()
    {
        var dir = At("checkpoints");
        Assert.Equal(0, CliProcess.Run(Timeout, [.. RunOf(40, checkpointEvery: 20), "--checkpoint-dir", dir]).ExitCode);
        var state = File.ReadAllText(Path.Combine(dir, "step-00000040", "state.json"));
        Assert.Contains("\"compute\": \"cpu, 1 thread(s), TorchSharp ", state);

        var same = CliProcess.Run(Timeout, [.. RunOf(40), "--resume", Path.Combine(dir, "step-00000020"), "--run-dir", At("same")]);
        Assert.True(same.ExitCode == 0, same.Stderr);
        Assert.DoesNotContain("other compute", same.Stdout);
        Assert.Contains("\"compute\": \"cpu, 1 thread(s)", File.ReadAllText(Path.Combine(At("same"), "summary.json")).Replace("\"Compute\"", "\"compute\""));

        var other = CliProcess.Run(Timeout, [.. RunOf(40), "--resume", Path.Combine(dir, "step-00000020"), "--threads", "2"]);
        Assert.True(other.ExitCode == 0, other.Stderr);
        Assert.Contains("the checkpoint was written on other compute (cpu, 1 thread(s)", other.Stdout);
        Assert.Contains("than this run's (cpu, 2 thread(s)", other.Stdout);
        Assert.Contains("no longer bit-identical to the uninterrupted one", other.Stdout);
    }

    [Fact]
    public void Should_start_fresh_with_resume_auto_when_there_is_no_checkpoint_yet()
    {
        var run = CliProcess.Run(Timeout, [.. RunOf(20), "--resume", "auto", "--run-dir", At("fresh")]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("starting a fresh run", run.Stdout);
        Assert.True(Directory.Exists(Path.Combine(At("fresh"), "checkpoints", "step-00000020")));
    }

    /// <summary>
    /// A coordinator resumed from a crashed run's checkpoint and stopped by SIGTERM while it still waits for workers has
    /// trained nothing new, but the run it holds is resumable: it exits 75, naming the checkpoint it resumed from.
    /// </summary>
    [Fact]
    public void Should_exit_75_when_a_resumed_coordinator_is_stopped_before_its_first_new_step()
    {
        var runDir = At("crashed");
        using (var crashed = CliProcess.Start("train", "--dataset", "synthetic", "--model", "mlp", "--steps", "100000", "--checkpoint-every", "20",
                   "--log-every", "20", "--run-dir", runDir, "--no-eval"))
        {
            crashed.WaitForOutput("step ", TestSeed.Random(output).Next(3, 8), Timeout);
            crashed.Kill();   // SIGKILL: only the periodic checkpoints are left
            crashed.Finish(Timeout);
        }
        var newest = Directory.GetDirectories(Path.Combine(runDir, "checkpoints")).Max()!;
        long step = long.Parse(Path.GetFileName(newest)["step-".Length..]);

        using var coordinator = CliProcess.Start("coordinator", "--port", $"{LoopbackPorts.Free()}", "--resume", "auto", "--run-dir", runDir);
        coordinator.WaitForOutput("waiting for 1 worker actor(s)", 1, Timeout);
        coordinator.Signal("TERM");
        var stopped = coordinator.Finish(Timeout);

        output.WriteLine($"resumed at step {step}: {stopped.Stderr.Trim()}");
        Assert.Contains($"resuming from {newest}: step {step} of 100000", stopped.Stdout);
        Assert.True(stopped.ExitCode == 75, $"exit {stopped.ExitCode}, expected 75 (stopped by a signal, its checkpoint there)\n{stopped.Stderr}");
        Assert.Contains($"after {step} of 100000 steps", stopped.Stderr);
        Assert.Contains($"the checkpoint of step {step} is in {Path.Combine(runDir, "checkpoints")}: resume with --resume auto", stopped.Stderr);
    }

    /// <summary>
    /// A sweep stopped by SIGTERM in its second run and started again with <c>--resume auto</c>: each run resumes from
    /// the checkpoints in its own folder (the first is already complete), and every run ends with the bits of the
    /// sweep that nothing stopped; the resumed run's metrics file has each step once.
    /// </summary>
    [Fact]
    public void Should_resume_each_run_of_a_stopped_sweep_from_its_own_folder()
    {
        string[] Sweep(string output) => ["sweep", "--clips", "none,norm:0.5", "--out", output, "--model", "lenet", "--train-samples", "2000",
            "--steps", "1500", "--optimizer", "adam", "--lr", "0.002", "--ema", "0.99", "--workers", "2", "--log-every", "100", "--checkpoint-every", "200"];
        var full = CliProcess.Run(Timeout, Sweep(At("full")));
        Assert.True(full.ExitCode == 0, full.Stderr);

        using (var stopped = CliProcess.Start(Sweep(At("stopped"))))
        {
            // The second run has trained and checkpointed 200 steps (a sweep prints no progress of its runs: its folder tells).
            var secondCheckpoint = Path.Combine(At("stopped"), "01-norm_0.5_2", "checkpoints", "step-00000200");
            var deadline = DateTime.UtcNow + Timeout;
            while (!Directory.Exists(secondCheckpoint))
            {
                Assert.True(DateTime.UtcNow < deadline && !stopped.HasExited, $"the sweep's second run wrote no checkpoint of step 200 ({secondCheckpoint})");
                Thread.Sleep(50);
            }
            Thread.Sleep(TestSeed.Random(output).Next(0, 1500));
            stopped.Signal("TERM");
            Assert.Equal(75, stopped.Finish(Timeout).ExitCode);   // stopped by a signal with the run's checkpoint written
        }
        var resumed = CliProcess.Run(Timeout, [.. Sweep(At("stopped")), "--resume", "auto"]);

        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        foreach (var run in new[] { "00-none", "01-norm_0.5_2" })
        {
            AssertSameBytes(Path.Combine(At("full"), run, "weights.safetensors"), Path.Combine(At("stopped"), run, "weights.safetensors"));
            var steps = File.ReadLines(Path.Combine(At("stopped"), run, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).ToList();
            Assert.Equal(Enumerable.Range(0, 1500).Select(i => (long)i), steps);
        }
    }
}
