// Coordinator and workers on separate hosts (network namespaces with their own addresses) train to completion.
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

public sealed class MultiHostSpecs(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-hosts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Should_train_with_coordinator_and_workers_on_separate_hosts()
    {
        using var network = new TestNetwork(hosts: 3);
        var (coordinatorNs, coordinatorIp) = network.Hosts[0];
        var seed = $"akka.tcp://distclip@{coordinatorIp}:4053";
        var weights = Path.Combine(_dir, "hosts.safetensors");

        // The namespaces share this machine's /dev/shm, which separate hosts do not: no shared memory here.
        using var coordinator = CliProcess.StartIn(coordinatorNs, ["coordinator", "--hostname", coordinatorIp, "--port", "4053", "--min-workers", "3",
            "--shared-memory", "off", "--save", weights, .. MultiProcessSpecs.JobArgs]);
        using var first = CliProcess.StartIn(network.Hosts[1].Namespace, ["worker", "--hostname", network.Hosts[1].Address, "--seed-nodes", seed, "--workers", "2"]);
        using var second = CliProcess.StartIn(network.Hosts[2].Namespace, ["worker"],  // configured the container way: environment only
            new Dictionary<string, string> { ["DISTCLIP_HOSTNAME"] = network.Hosts[2].Address, ["DISTCLIP_SEED_NODES"] = seed, ["DISTCLIP_WORKERS"] = "1" });

        var run = coordinator.Finish(TimeSpan.FromMinutes(4));
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains($"coordinator listening at akka.tcp://distclip@{coordinatorIp}:4053", run.Stdout);
        Assert.Contains("done: 24 steps, 1200 samples", run.Stdout);
        Assert.Equal(3, run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal) && l.Contains("through the bulk channel")));
        Assert.Equal(0, first.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        Assert.Equal(0, second.Finish(TimeSpan.FromSeconds(60)).ExitCode);

        var hosts = MultiProcessSpecs.Saved(weights);
        var embedded = MultiProcessSpecs.Embedded(3);
        double diff = hosts.Zip(embedded, (a, b) => Math.Abs((double)a - b)).Max();
        Assert.True(hosts.AsSpan().SequenceEqual(embedded), $"multi-host and embedded trainer are not bit-identical (same N, same reduction order): max |Δθ| {diff:E3}");
    }

    /// <summary>
    /// The coordinator's host is cut off from both worker hosts for 30 s mid-run. The coordinator holds the run's only
    /// state and keeps it (its side survives, even alone); the workers, downed on their side, join again as new
    /// members once the link is back, and the run ends with every step and the bits of the uninterrupted run.
    /// </summary>
    [Fact]
    public void Should_survive_a_30_s_partition_of_the_coordinator_from_its_workers()
    {
        using var network = new TestNetwork(hosts: 3);
        var (coordinatorNs, coordinatorIp) = network.Hosts[0];
        var seed = $"akka.tcp://distclip@{coordinatorIp}:4053";
        string[] job = ["--model", "lenet", "--train-samples", "2000", "--global-batch", "32", "--steps", "600", "--seed", "5", "--log-every", "50", "--no-eval"];
        var weights = Path.Combine(_dir, "partitioned.safetensors");
        using var coordinator = CliProcess.StartIn(coordinatorNs, ["coordinator", "--hostname", coordinatorIp, "--port", "4053", "--min-workers", "2",
            "--shared-memory", "off", "--save", weights, .. job]);
        using var first = CliProcess.StartIn(network.Hosts[1].Namespace, ["worker", "--hostname", network.Hosts[1].Address, "--seed-nodes", seed]);
        using var second = CliProcess.StartIn(network.Hosts[2].Namespace, ["worker", "--hostname", network.Hosts[2].Address, "--seed-nodes", seed]);
        coordinator.WaitForOutput("step ", 2, TimeSpan.FromMinutes(2));
        network.SetConnected(0, false);
        Thread.Sleep(TimeSpan.FromSeconds(30));
        network.SetConnected(0, true);

        var run = coordinator.Finish(TimeSpan.FromMinutes(4));
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 600 steps", run.Stdout);
        Assert.True(run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal)) >= 3, "no worker joined again after the partition");
        Assert.Equal(0, first.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        Assert.Equal(0, second.Finish(TimeSpan.FromSeconds(60)).ExitCode);

        var reference = Path.Combine(_dir, "uninterrupted.safetensors");
        Assert.Equal(0, CliProcess.Run(TimeSpan.FromMinutes(4), ["train", .. job, "--workers", "2", "--save", reference]).ExitCode);
        Assert.True(File.ReadAllBytes(reference).AsSpan().SequenceEqual(File.ReadAllBytes(weights)), "the partitioned run's weights differ from the uninterrupted run's");
    }
}
