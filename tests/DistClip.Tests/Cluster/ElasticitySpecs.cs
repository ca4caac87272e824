// Elasticity that changes nothing: workers that die or join, and a coordinator killed and restarted, leave the run's bits as they were.
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

/// <summary>
/// Real processes on loopback, killed with SIGKILL. The number of shards of every step is fixed for the run
/// (<c>--shards</c>, by default the coordinator's <c>--min-workers</c>), so whichever workers compute them, the run
/// ends with the same bits as <c>distclip train --workers 2</c> of the same configuration, which nothing interrupted —
/// with either exchange: the sharded one (workers that step replicas of their own) ends with the central one's bits.
/// </summary>
public sealed class ElasticitySpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-elastic-").FullName;

    private static readonly string[] Job =
        ["--model", "lenet", "--train-samples", "2000", "--global-batch", "32", "--steps", "900", "--seed", "5", "--log-every", "50", "--no-eval"];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(string name) => Path.Combine(_dir, name);

    /// <summary>The uninterrupted run: the embedded trainer, two workers, two shards a step.</summary>
    private byte[] Uninterrupted()
    {
        var run = CliProcess.Run(Timeout, ["train", .. Job, "--workers", "2", "--save", At("uninterrupted.safetensors")]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        return File.ReadAllBytes(At("uninterrupted.safetensors"));
    }

    private static RunningCli Worker(int port) => CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");

    private void AssertFinishedBitIdentical(CliRun run, string weights)
    {
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 900 steps", run.Stdout);
        Assert.True(Uninterrupted().AsSpan().SequenceEqual(File.ReadAllBytes(weights)), "the run's weights differ from the uninterrupted run's");
    }

    [Theory]
    [InlineData("central")]
    [InlineData("sharded")]
    public void Should_end_bit_identical_when_a_worker_process_is_killed(string exchange)
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "2", .. Job, "--exchange", exchange, "--save", At("run.safetensors")]);
        using var survivor = Worker(port);
        using var doomed = Worker(port);
        coordinator.WaitForOutput("step ", TestSeed.Random(output).Next(2, 10), Timeout);
        doomed.Kill();

        var run = coordinator.Finish(Timeout);
        Assert.Contains(exchange == "central" ? "is unreachable; its shards go to the others" : "planning the step again over 1 worker(s)", run.Stdout + run.Stderr);
        AssertFinishedBitIdentical(run, At("run.safetensors"));
        Assert.Equal(0, survivor.Finish(TimeSpan.FromSeconds(60)).ExitCode);
    }

    /// <summary>
    /// A worker process frozen with SIGSTOP keeps its connections open and answers nothing: the failure detector gives
    /// up on its node, its shards (sharded: its ranges too) go to the survivor, and once continued it is told the job
    /// ended for it and joins again.
    /// </summary>
    [Theory]
    [InlineData("central")]
    [InlineData("sharded")]
    public void Should_end_bit_identical_when_a_worker_process_is_stopped_and_continued(string exchange)
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "2", .. Job, "--exchange", exchange, "--save", At("run.safetensors")]);
        using var survivor = Worker(port);
        using var frozen = Worker(port);
        coordinator.WaitForOutput("step ", TestSeed.Random(output).Next(2, 6), Timeout);
        frozen.Signal("STOP");
        coordinator.WaitForOutput("is unreachable; its shards go to the others", 1, Timeout);
        frozen.Signal("CONT");
        coordinator.WaitForOutput("admitted ", 3, Timeout);   // the continued worker, admitted anew (should the detector flap, more than once)

        var run = coordinator.Finish(Timeout);
        AssertFinishedBitIdentical(run, At("run.safetensors"));
        Assert.Equal(0, survivor.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        var continued = frozen.Finish(TimeSpan.FromSeconds(60));
        Assert.True(continued.ExitCode == 0, $"the continued worker's exit {continued.ExitCode}\n{continued.Stdout}\n{continued.Stderr}");
    }

    [Theory]
    [InlineData("central")]
    [InlineData("sharded")]
    public void Should_end_bit_identical_when_a_worker_joins_mid_run(string exchange)
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "1", "--shards", "2", .. Job, "--exchange", exchange, "--save", At("run.safetensors")]);
        using var first = Worker(port);
        coordinator.WaitForOutput("step ", TestSeed.Random(output).Next(2, 8), Timeout);
        using var second = Worker(port);

        var run = coordinator.Finish(Timeout);
        Assert.Equal(2, run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal)));
        AssertFinishedBitIdentical(run, At("run.safetensors"));
        Assert.Equal(0, first.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        Assert.Equal(0, second.Finish(TimeSpan.FromSeconds(60)).ExitCode);
    }

    /// <summary>
    /// The coordinator is killed mid-run; restarted on the same address with <c>--resume auto</c>, it continues
    /// from its newest checkpoint with the same worker processes, which joined it again by themselves.
    /// </summary>
    [Theory]
    [InlineData("central")]
    [InlineData("sharded")]
    public void Should_end_bit_identical_when_the_coordinator_is_killed_and_restarted_with_resume_auto(string exchange)
    {
        int port = LoopbackPorts.Free();
        string[] coordinatorArgs = ["coordinator", "--port", $"{port}", "--min-workers", "2", .. Job, "--exchange", exchange, "--run-dir", At("run"), "--checkpoint-every", "100",
            "--resume", "auto", "--save", At("run.safetensors")];
        using var first = Worker(port);
        using var second = Worker(port);
        using (var doomed = CliProcess.Start(coordinatorArgs))
        {
            doomed.WaitForOutput("written to", TestSeed.Random(output).Next(1, 6), Timeout);
            doomed.Kill();
        }

        using var restarted = CliProcess.Start(coordinatorArgs);
        var run = restarted.Finish(Timeout);
        Assert.Contains("resuming from ", run.Stdout);
        Assert.Equal(2, run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal)));
        AssertFinishedBitIdentical(run, At("run.safetensors"));
        foreach (var worker in new[] { first, second })
        {
            var end = worker.Finish(TimeSpan.FromSeconds(60));
            Assert.Equal(0, end.ExitCode);
            Assert.Contains("lost the coordinator; joining again", end.Stdout);
        }
    }

    [Fact]
    public void Should_give_up_waiting_for_a_coordinator_after_the_timeout_with_one_line()
    {
        var run = CliProcess.Run(Timeout, "worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{LoopbackPorts.Free()}", "--coordinator-timeout", "3");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no coordinator reachable at", run.Stderr);
        Assert.Contains("--coordinator-timeout", run.Stderr);
    }

    /// <summary>
    /// A worker that sends NaN for every shard: each of its results is refused, named, and computed again by a
    /// healthy worker; after <c>--max-bad-shards</c> (3) it is removed (exit 1, one line). The run ends with the bits
    /// of the clean run: with fixed shards a recomputed shard is the one the faulty worker should have sent.
    /// </summary>
    [Theory]
    [InlineData("central")]
    [InlineData("sharded")]
    public void Should_recompute_the_shards_of_a_worker_that_sends_NaN_remove_it_and_end_bit_identical(string exchange)
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "2", .. Job, "--exchange", exchange,
            "--save", At("run.safetensors"), "--metrics", At("metrics.jsonl")]);
        using var faulty = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", "--fault-send-nan");
        coordinator.WaitForOutput("admitted ", 1, Timeout);
        using var healthy = Worker(port);

        var removed = faulty.Finish(Timeout);
        Assert.Equal(1, removed.ExitCode);   // a fault at run time, not the worker's configuration (2)
        Assert.Contains("the coordinator removed this worker from the run: 3 shard results that were not finite", removed.Stderr);
        var run = coordinator.Finish(Timeout);
        var log = run.Stdout + run.Stderr;
        Assert.Contains("is not finite; computing it again on", log);
        Assert.Contains("sent a non-finite result for shard", log);
        var badShards = File.ReadLines(At("metrics.jsonl")).Sum(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("bad_shards").GetInt32());
        Assert.Equal(3, badShards);
        AssertFinishedBitIdentical(run, At("run.safetensors"));
        Assert.Equal(0, healthy.Finish(TimeSpan.FromSeconds(60)).ExitCode);
    }
}
