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

    /// <summary>
    /// Every clip policy with one optimizer, as worker processes over TCP: a cluster sweep (one set of worker processes,
    /// job after job) with the sharded exchange, three workers in two processes, four uneven shards, a moving average;
    /// each spec's weights must be the embedded central sweep's bit for bit. (Batch norm over TCP: the next spec.)
    /// </summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Should_train_every_clip_policy_sharded_over_TCP_to_the_embedded_central_bits(string optimizer)
    {
        const string clips = "norm:0.1,norm:0.3:1,norm:0.05:inf,value:0.005,layer:0.05,agc:0.02,auto:50,none";
        string[] job = ["--clips", clips, "--model", "lenet", "--train-samples", "300", "--global-batch", "23", "--shards", "4", "--steps", "6", "--seed", "4",
            "--optimizer", optimizer, "--lr", optimizer == "sgd" ? "0.05" : "0.01", "--momentum", optimizer == "sgd" ? "0.9" : "0", "--weight-decay", "0.01",
            "--ema", "0.9", "--no-eval"];
        int port = LoopbackPorts.Free();
        var seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        string sharded = Path.Combine(_dir, "sharded"), central = Path.Combine(_dir, "central");

        using (var sweep = CliProcess.StartWith(NoSharedMemory, ["sweep", "--cluster", "--port", $"{port}", "--min-workers", "3", "--exchange", "sharded", .. job, "--out", sharded]))
        using (var twoWorkers = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", seed, "--workers", "2"))
        using (var oneWorker = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", seed))
        {
            var run = sweep.Finish(Timeout);
            output.WriteLine(run.Stdout);
            Assert.True(run.ExitCode == 0, $"sweep exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            Assert.Equal(0, twoWorkers.Finish(TimeSpan.FromSeconds(60)).ExitCode);
            Assert.Equal(0, oneWorker.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        }
        var reference = CliProcess.Run(Timeout, ["sweep", "--workers", "3", "--exchange", "central", .. job, "--out", central]);
        Assert.True(reference.ExitCode == 0, $"central sweep exit {reference.ExitCode}\n{reference.Stderr}");

        var runs = Directory.GetDirectories(central).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(8, runs.Count);
        Assert.Equal(runs, Directory.GetDirectories(sharded).Select(Path.GetFileName).Order());
        foreach (var name in runs)
            foreach (var weights in new[] { "weights.safetensors", "weights.ema.safetensors" })
                Assert.True(File.ReadAllBytes(Path.Combine(central, name!, weights)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(sharded, name!, weights))),
                    $"{name} ({optimizer}): the sharded cluster's {weights} is not the embedded central trainer's");
    }

    /// <summary>
    /// A model with batch norm over TCP: the running statistics travel in the exchange vector's ranges beside the
    /// gradients and every replica must end with the central master's, as must the weights and the moving average.
    /// </summary>
    [Fact]
    public void Should_train_a_batch_norm_model_sharded_over_TCP_to_the_embedded_central_bits()
    {
        string[] job = ["--model", "resnet18_cifar", "--dataset", "synthetic", "--train-samples", "46", "--global-batch", "23", "--shards", "4", "--steps", "3",
            "--seed", "4", "--clip", "auto:50:inf", "--optimizer", "adam", "--lr", "0.01", "--ema", "0.9", "--no-eval"];
        int port = LoopbackPorts.Free();
        string At(string name) => Path.Combine(_dir, name);
        using (var coordinator = CliProcess.StartWith(NoSharedMemory, ["coordinator", "--port", $"{port}", "--min-workers", "3", "--exchange", "sharded", .. job, "--save", At("sharded.safetensors")]))
        using (var workers = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", "--workers", "3"))
        {
            var run = coordinator.Finish(Timeout);
            output.WriteLine(run.Stdout);
            Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            Assert.Equal(0, workers.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        }
        var reference = CliProcess.Run(Timeout, ["train", "--workers", "3", "--exchange", "central", .. job, "--save", At("central.safetensors")]);
        Assert.True(reference.ExitCode == 0, reference.Stderr);
        foreach (var (a, b) in new[] { ("central.safetensors", "sharded.safetensors"), ("central.ema.safetensors", "sharded.ema.safetensors") })
            Assert.True(File.ReadAllBytes(At(a)).AsSpan().SequenceEqual(File.ReadAllBytes(At(b))), $"{b} is not {a}");
    }

    /// <summary>
    /// The sharded exchange under <c>--tls</c> and the join secret: the workers' connections to each other are mutual TLS
    /// with the cluster's certificates (a worker's bulk port refuses a TLS client without one, as the coordinator's does)
    /// and carry frames only under the pair tokens the coordinator issued; the run ends with the plaintext central bits.
    /// </summary>
    [Fact]
    public async Task Should_train_sharded_over_mutual_TLS_with_the_join_secret_to_the_plaintext_central_bits()
    {
        string At(params string[] parts) => Path.Combine([_dir, .. parts]);
        string[] job = ["--model", "lenet", "--train-samples", "2000", "--global-batch", "32", "--steps", "200", "--seed", "11", "--log-every", "50", "--no-eval"];
        Assert.Equal(0, CliProcess.Run(Timeout, "certs", At("ours"), "--node", "coordinator", "--node", "worker-a", "--node", "worker-b").ExitCode);
        File.WriteAllText(At("secret"), "correct horse battery staple 42\n");
        int port = LoopbackPorts.Free(), workerBulkPort = LoopbackPorts.Free();
        string seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "2", "--exchange", "sharded", "--tls", At("ours", "coordinator"),
            "--secret-file", At("secret"), "--shared-memory", "off", .. job, "--save", At("run.safetensors")]);
        using var first = CliProcess.Start("worker", "--seed-nodes", seed, "--tls", At("ours", "worker-a"), "--secret-file", At("secret"), "--shared-memory", "off",
            "--bulk-port", $"{workerBulkPort}");
        using var second = CliProcess.Start("worker", "--seed-nodes", seed, "--tls", At("ours", "worker-b"), "--secret-file", At("secret"), "--shared-memory", "off");

        coordinator.WaitForOutput("step ", 1, Timeout);
        Assert.True(await Tls.CertificatelessClient.IsRefusedAsync(workerBulkPort, TimeSpan.FromSeconds(10)), "a TLS client without a certificate got past a worker's bulk port");

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 200 steps", run.Stdout);
        foreach (var worker in new[] { first, second })
        {
            var end = worker.Finish(TimeSpan.FromSeconds(60));
            Assert.True(end.ExitCode == 0, $"worker exit {end.ExitCode}\n{end.Stdout}\n{end.Stderr}");
            Assert.DoesNotContain("failed", end.Stdout + end.Stderr);
        }
        var reference = CliProcess.Run(Timeout, ["train", .. job, "--workers", "2", "--exchange", "central", "--save", At("plaintext.safetensors")]);
        Assert.True(reference.ExitCode == 0, reference.Stderr);
        Assert.True(File.ReadAllBytes(At("plaintext.safetensors")).AsSpan().SequenceEqual(File.ReadAllBytes(At("run.safetensors"))),
            "the sharded TLS run differs from the plaintext central run");
    }

    /// <summary>
    /// A worker whose replica moves off the run's (a fault of its compute, injected): at the first replica check after it
    /// drifted, its hash is outside the majority of the coordinator and the other two workers; it is named, removed
    /// (exit 1, one line), its step planned again, and the others finish the run.
    /// </summary>
    [Fact]
    public void Should_name_and_remove_a_worker_whose_replica_diverged_and_finish_with_the_others()
    {
        int port = LoopbackPorts.Free();
        var seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        using var coordinator = CliProcess.StartWith(NoSharedMemory, ["coordinator", "--port", $"{port}", "--min-workers", "3", "--exchange", "sharded",
            "--replica-check-every", "5", "--model", "lenet", "--train-samples", "600", "--global-batch", "48", "--steps", "40", "--log-every", "10", "--no-eval"]);
        using var healthy = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", seed, "--workers", "2");
        using var drifting = CliProcess.StartWith(NoSharedMemory, "worker", "--seed-nodes", seed, "--fault-drift-replica");

        var removed = drifting.Finish(Timeout);
        output.WriteLine(removed.Stdout + removed.Stderr);
        Assert.Equal(1, removed.ExitCode);
        Assert.Contains("the coordinator removed this worker from the run: its replica diverged from the run's after 5 steps", removed.Stderr);
        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout + run.Stderr);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 40 steps", run.Stdout);
        Assert.Matches(@"Removed worker [^ ]*/worker-0: its replica diverged from the run's after 5 steps \(the run's state, hash [0-9a-f]{16}, is held by: [^)]*coordinator", run.Stdout + run.Stderr);
        Assert.Equal(0, healthy.Finish(TimeSpan.FromSeconds(60)).ExitCode);
    }
}
