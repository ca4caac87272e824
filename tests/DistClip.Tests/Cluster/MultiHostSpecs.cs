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
}
