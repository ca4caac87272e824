// The sharded exchange between processes over TCP: the workers' bulk channels carry the ranges, and the bits stay the central ones.
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

/// <summary>
/// A coordinator process and worker processes on loopback with <c>--exchange sharded</c> and shared memory off, so every
/// range crosses a TCP connection between two workers' bulk channels (and every reduced range one to the coordinator's).
/// The run must end with the embedded central trainer's bits.
/// </summary>
public sealed class ShardedClusterSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-sharded-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> NoSharedMemory = new() { ["DISTCLIP_SHARED_MEMORY"] = "off" };

    [Fact]
    public void Should_train_over_the_workers_bulk_channels_exactly_what_the_embedded_central_trainer_trains()
    {
        int port = LoopbackPorts.Free();
        var seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        var weights = Path.Combine(_dir, "sharded.safetensors");

        using var coordinator = CliProcess.StartWith(NoSharedMemory, ["coordinator", "--port", $"{port}", "--min-workers", "3", "--exchange", "sharded", "--save", weights, .. MultiProcessSpecs.JobArgs]);
        using var twoWorkers = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", seed, "--workers", "2");
        using var oneWorker = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", seed, "--workers", "1");

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 24 steps, 1200 samples", run.Stdout);
        Assert.Equal(3, run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal) && l.Contains("through the bulk channel")));
        var w2 = twoWorkers.Finish(TimeSpan.FromSeconds(60));
        var w1 = oneWorker.Finish(TimeSpan.FromSeconds(60));
        Assert.True(w2.ExitCode == 0 && w1.ExitCode == 0, $"worker exits {w2.ExitCode}, {w1.ExitCode}\n{w2.Stderr}\n{w1.Stderr}");
        Assert.DoesNotContain("failed", w2.Stdout + w2.Stderr + w1.Stdout + w1.Stderr);

        var sharded = MultiProcessSpecs.Saved(weights);
        var central = MultiProcessSpecs.Embedded(3);
        Assert.True(sharded.AsSpan().SequenceEqual(central), "the sharded cluster's weights are not the embedded central trainer's");
    }
}
