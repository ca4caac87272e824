// A worker that would change the run's bits is refused at join, naming what differs: its compute, or its copy of the data.
using System.IO.Compression;
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

/// <summary>
/// Through the real CLI, with real processes: a worker with other intra-op threads than the cluster's is refused with
/// one line naming the field and exit 2 (it used to be admitted silently, and the result drifted 2e-5 to 4e-4 from the
/// embedded run), and admitted with a warning under <c>--allow-mixed-compute</c>; a worker whose copy of Fashion-MNIST has
/// the labels of its first 2,000 training samples shuffled is refused naming the data set (it was admitted, and the
/// result moved by 0.29); a worker of the cluster's compute and data trains the run to its end.
/// </summary>
public sealed class ClusterFingerprintSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-fingerprint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunningCli Coordinator(int port, params string[] more) =>
        CliProcess.Start(["coordinator", "--port", $"{port}", "--model", "mlp", "--train-samples", "5000", "--steps", "20", "--no-eval", .. more]);

    private static string Seed(int port) => $"akka.tcp://distclip@127.0.0.1:{port}";

    private void AssertRefused(CliRun worker, params string[] expected)
    {
        output.WriteLine(worker.Stderr);
        Assert.True(worker.ExitCode == 2, $"worker exit {worker.ExitCode}, expected 2\n{worker.Stdout}\n{worker.Stderr}");
        var lines = worker.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{worker.Stderr}");
        foreach (var text in expected) Assert.Contains(text, lines[0]);
    }

    [Fact]
    public void Should_refuse_a_worker_with_other_threads_and_admit_it_with_allow_mixed_compute()
    {
        int port = LoopbackPorts.Free();
        using (var coordinator = Coordinator(port))
        {
            AssertRefused(CliProcess.Run(Timeout, "worker", "--seed-nodes", Seed(port), "--threads", "2"),
                "the coordinator refused this worker: worker 127.0.0.1:", "/worker-0: --threads 2, the cluster runs 1", "--allow-mixed-compute");
            using var same = CliProcess.Start("worker", "--seed-nodes", Seed(port), "--threads", "1");
            var run = coordinator.Finish(Timeout);
            Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            Assert.Contains("done: 20 steps", run.Stdout);
            Assert.Equal(0, same.Finish(Timeout).ExitCode);
        }

        port = LoopbackPorts.Free();
        using var mixed = Coordinator(port, "--allow-mixed-compute");
        using var other = CliProcess.Start("worker", "--seed-nodes", Seed(port), "--threads", "2");
        var admitted = mixed.Finish(Timeout);
        Assert.True(admitted.ExitCode == 0, $"coordinator exit {admitted.ExitCode}\n{admitted.Stdout}\n{admitted.Stderr}");
        Assert.Contains("done: 20 steps", admitted.Stdout);
        Assert.Contains("--threads 2, the cluster runs 1): the run is no longer bit-reproducible", admitted.Stdout + admitted.Stderr);
        Assert.Equal(0, other.Finish(Timeout).ExitCode);
    }

    /// <summary><c>sweep --cluster</c> admits as <c>coordinator</c> does: the option was the coordinator's alone.</summary>
    [Fact]
    public void Should_admit_a_worker_with_other_threads_to_the_runs_of_a_cluster_sweep_only_with_allow_mixed_compute()
    {
        RunningCli Sweep(int port, params string[] more) => CliProcess.Start(["sweep", "--cluster", "--port", $"{port}", "--clips", "none,norm:1",
            "--model", "mlp", "--train-samples", "5000", "--steps", "10", "--out", Path.Combine(_dir, $"sweep-{port}"), .. more]);

        int port = LoopbackPorts.Free();
        using (Sweep(port))
            AssertRefused(CliProcess.Run(Timeout, "worker", "--seed-nodes", Seed(port), "--threads", "2"), "/worker-0: --threads 2, the cluster runs 1", "--allow-mixed-compute");

        port = LoopbackPorts.Free();
        using var mixed = Sweep(port, "--allow-mixed-compute");
        using var other = CliProcess.Start("worker", "--seed-nodes", Seed(port), "--threads", "2");
        var admitted = mixed.Finish(Timeout);
        Assert.True(admitted.ExitCode == 0, $"sweep exit {admitted.ExitCode}\n{admitted.Stdout}\n{admitted.Stderr}");
        Assert.Equal(2, File.ReadAllLines(Path.Combine(_dir, $"sweep-{port}", "sweep.csv")).Length - 1);
        Assert.Contains("--threads 2, the cluster runs 1): the run is no longer bit-reproducible", admitted.Stdout + admitted.Stderr);
        Assert.Equal(0, other.Finish(Timeout).ExitCode);

        var embedded = CliProcess.Run(Timeout, "sweep", "--clips", "none", "--allow-mixed-compute", "--dataset", "synthetic", "--steps", "1", "--out", Path.Combine(_dir, "embedded"));
        Assert.Equal(2, embedded.ExitCode);   // an option that would do nothing is one line, not silence
        Assert.Contains("--allow-mixed-compute admits the workers of a cluster sweep: add --cluster", Assert.Single(embedded.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Should_refuse_a_worker_whose_copy_of_the_data_differs()
    {
        var copy = Path.Combine(_dir, "fashion-mnist");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Models.Data.DatasetCatalog.FashionMnistPackageDir))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        ShuffleFirstLabels(Path.Combine(copy, "train-labels-idx1-ubyte.gz"), 2000, seed: 7);

        int port = LoopbackPorts.Free();
        using var coordinator = Coordinator(port);
        AssertRefused(CliProcess.Run(Timeout, "worker", "--seed-nodes", Seed(port), "--data-dir", copy),
            "its copy of fashion-mnist", "is not the coordinator's", "the same number of samples, 5000");
        using var good = CliProcess.Start("worker", "--seed-nodes", Seed(port));
        var run = coordinator.Finish(Timeout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal(0, good.Finish(Timeout).ExitCode);
    }

    /// <summary>A stale or damaged copy: the labels of the first <paramref name="count"/> samples of an IDX label file permuted.</summary>
    private static void ShuffleFirstLabels(string gzipped, int count, int seed)
    {
        byte[] labels;
        using (var input = new GZipStream(File.OpenRead(gzipped), CompressionMode.Decompress))
        using (var buffer = new MemoryStream())
        {
            input.CopyTo(buffer);
            labels = buffer.ToArray();
        }
        const int header = 8;   // magic, count
        var first = labels.AsSpan(header, count).ToArray();
        new Random(seed).Shuffle(first);
        first.CopyTo(labels.AsSpan(header));
        using var output = new GZipStream(File.Create(gzipped), CompressionLevel.Fastest);
        output.Write(labels);
    }
}
