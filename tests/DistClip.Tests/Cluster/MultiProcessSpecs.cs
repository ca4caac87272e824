// The transport changes nothing: a coordinator process and worker processes on loopback train what the embedded trainer trains.
using DistClip.Core;
using System.Net;
using System.Net.Sockets;
using DistClip.Hosting;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Models;
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

public sealed class MultiProcessSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);


    /// <summary>The job of the test, as CLI arguments and as the embedded trainer's settings.</summary>
    internal static readonly string[] JobArgs =
        ["--model", "lenet", "--train-samples", "600", "--no-shuffle", "--global-batch", "50", "--steps", "24", "--seed", "11",
         "--lr-schedule", "constant", "--lr", "0.05", "--momentum", "0.9", "--clip-norm", "0.16", "--no-eval"];

    internal static TrainingSettings JobSettings(int workers) => new()
    {
        Model = "lenet", TrainSamples = 600, Shuffle = false, GlobalBatch = 50, Steps = 24, Seed = 11, Workers = workers,
        Schedule = new ScheduleSettings("constant"), Optimizer = new OptimizerSettings("sgd", 0.05, 0.9),
        Clip = new ClipPolicy.GlobalNorm(0.16, 2.0), Evaluate = false, Exchange = ExchangeMode.Central,   // the reference exchange
    };

    internal static float[] Embedded(int workers)
    {
        var result = EmbeddedTrainer.RunAsync(JobSettings(workers), new ProgressLog(TextWriter.Null, 1000, 24, null)).WaitAsync(Timeout).GetAwaiter().GetResult();
        result.Model.Dispose();
        return result.Parameters;
    }

    internal static float[] Saved(string path)
    {
        var tensors = Safetensors.Read(path);
        using var model = Models.Zoo.ModelZoo.Create(new Core.ModelSpec("lenet", 1, 28, 28, 10), 0);
        Safetensors.Load(model, path);
        return new Core.FlatParameters(model).ReadValues();
    }

    /// <summary>
    /// Both data planes in one run: the two workers of one process share memory with the coordinator
    /// (same host), the third is told not to and uses the bulk TCP channel.
    /// </summary>
    [Fact]
    public void Should_train_across_processes_exactly_what_the_embedded_trainer_trains()
    {
        int port = LoopbackPorts.Free();
        var seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        var weights = Path.Combine(_dir, "cluster.safetensors");

        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "3", "--save", weights, .. JobArgs]);
        using var twoWorkers = CliProcess.Start("worker", "--seed-nodes", seed, "--workers", "2");
        using var oneWorker = CliProcess.StartWith(new Dictionary<string, string> { ["DISTCLIP_SHARED_MEMORY"] = "off" }, "worker", "--seed-nodes", seed, "--workers", "1");

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 24 steps, 1200 samples", run.Stdout);
        var admissions = run.Stdout.Split('\n').Where(l => l.StartsWith("admitted ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, admissions.Count(l => l.Contains("through shared memory")));
        Assert.Equal(1, admissions.Count(l => l.Contains("through the bulk channel")));
        Assert.Empty(Directory.GetFiles(DistClip.Exchange.SharedMemory.SharedSegment.DefaultDirectory, $"distclip-{coordinator.ProcessId}-*"));
        var w2 = twoWorkers.Finish(TimeSpan.FromSeconds(60));
        var w1 = oneWorker.Finish(TimeSpan.FromSeconds(60));
        Assert.True(w2.ExitCode == 0 && w1.ExitCode == 0, $"worker exits {w2.ExitCode}, {w1.ExitCode}\n{w2.Stderr}\n{w1.Stderr}");

        var cluster = Saved(weights);
        var embedded = Embedded(3);
        double diff = cluster.Zip(embedded, (a, b) => Math.Abs((double)a - b)).Max();
        output.WriteLine($"max |Δθ| cluster vs embedded (N = 3): {diff:E2}");
        Assert.True(cluster.AsSpan().SequenceEqual(embedded), $"cluster and embedded trainer are not bit-identical (same N, same reduction order): max |Δθ| {diff:E3}");
    }

    /// <summary>
    /// A worker process dies mid-run (killed): once the cluster has removed its node, its shards go to the
    /// survivor, and the run ends with every step taken. The shared segment of the dead worker stays mapped
    /// by the coordinator, so a result of it that the reducer still held is read safely.
    /// </summary>
    [Fact]
    public void Should_finish_the_run_when_a_worker_process_dies()
    {
        int port = LoopbackPorts.Free();
        var seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "2", "--model", "lenet", "--train-samples", "600",
            "--global-batch", "50", "--steps", "700", "--log-every", "100", "--no-eval"]);
        using var survivor = CliProcess.Start("worker", "--seed-nodes", seed);
        using var doomed = CliProcess.Start("worker", "--seed-nodes", seed);
        coordinator.WaitForOutput("through shared memory", 2, Timeout);
        coordinator.WaitForOutput("step ", 3, Timeout);  // a few hundred steps in
        doomed.Kill();

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 700 steps, 35000 samples", run.Stdout);
        Assert.Contains("re-assigning", run.Stdout + run.Stderr);
        Assert.Equal(0, survivor.Finish(TimeSpan.FromSeconds(60)).ExitCode);
    }

    [Fact]
    public async Task Should_keep_training_and_say_once_that_a_foreign_client_sends_garbage_to_the_coordinator_port()
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "1", "--dataset", "synthetic", "--model", "mlp", "--steps", "150", "--no-eval"]);
        await LoopbackPorts.WaitForListenerAsync(port, Timeout);
        var random = new Random(5);
        for (int i = 0; i < 5; i++) await SendGarbageAsync(port, random);   // before any worker joined
        using var worker = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");
        for (int i = 0; i < 20; i++) await SendGarbageAsync(port, random);  // while it trains

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stderr);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 150 steps", run.Stdout);
        Assert.Equal(0, worker.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        // 25 connections that break Akka's framing or protocol: one line says them, not Akka's error with a stack trace for each.
        Assert.DoesNotContain("Error caught channel", run.Stdout + run.Stderr);   // Akka logs to stdout
        Assert.DoesNotContain("Error while decoding incoming Akka PDU", run.Stdout + run.Stderr);
        var said = Assert.Single(run.Stderr.Split('\n'), l => l.Contains("refused a connection to the Akka port from 127.0.0.1", StringComparison.Ordinal));
        Assert.Matches("not Akka's (framing|protocol)", said);
    }

    /// <summary>
    /// 300 connections to the coordinator's bulk port that send part of a frame header and wait (a header in full would be
    /// refused at once: its token is no admitted worker's), held through the run: the worker, which exchanges through that
    /// port, keeps training to the end.
    /// </summary>
    [Fact]
    public async Task Should_keep_training_while_300_connections_hold_half_frames_on_the_bulk_port()
    {
        int port = LoopbackPorts.Free(), bulkPort = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--bulk-port", $"{bulkPort}", "--shared-memory", "off",
            "--min-workers", "1", "--dataset", "synthetic", "--model", "mlp", "--steps", "400", "--log-every", "100", "--no-eval"]);
        await LoopbackPorts.WaitForListenerAsync(port, Timeout);
        await LoopbackPorts.WaitForListenerAsync(bulkPort, Timeout);
        var frame = new MemoryStream();
        DistClip.Exchange.Bulk.BulkFrame.Write(frame, new DistClip.Exchange.Bulk.BulkMessage(DistClip.Exchange.Bulk.BulkKind.Gradients, 1, 0, 0, 0, 1, 0, new float[1000]));
        var half = frame.ToArray()[..30];   // of a frame header
        var held = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, bulkPort);
                try { await client.GetStream().WriteAsync(half); } catch (IOException) { }
                held.Add(client);
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var worker = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", "--shared-memory", "off");
            coordinator.WaitForOutput("admitted ", 1, Timeout);
            output.WriteLine($"admitted after {clock.Elapsed.TotalSeconds:F1} s");
            coordinator.WaitForOutput("step    100/", 1, Timeout);
            output.WriteLine($"100 steps after {clock.Elapsed.TotalSeconds:F1} s");
            var run = coordinator.Finish(Timeout);
            output.WriteLine($"finished after {clock.Elapsed.TotalSeconds:F1} s");
            output.WriteLine(string.Join('\n', (run.Stdout + run.Stderr).Split('\n').Where(l => !l.Contains("bulk channel: "))));
            Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            Assert.Contains("done: 400 steps", run.Stdout);
            Assert.Contains("through the bulk channel", run.Stdout);
            Assert.Equal(0, worker.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        }
        finally
        {
            foreach (var client in held) client.Dispose();
        }
    }

    /// <summary>
    /// 200 connections to the coordinator's Akka port from 127.0.0.2, each sending the length field of a 1 MiB frame (the
    /// largest Akka reads) and then 990 KB of it, as the flood did: all but the cap are closed as they are accepted,
    /// said in one line, and a worker from 127.0.0.1 trains meanwhile to the embedded trainer's bits.
    /// </summary>
    [Fact]
    public async Task Should_cap_the_connections_one_address_holds_to_the_akka_port_and_train_to_the_same_bits()
    {
        int port = LoopbackPorts.Free();
        var weights = Path.Combine(_dir, "flooded.safetensors");
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "1", "--save", weights, .. JobArgs]);
        await LoopbackPorts.WaitForListenerAsync(port, Timeout);
        byte[] partialFrame = [0xFC, 0xFF, 0x0F, 0x00, .. new byte[990_000]];   // a 1 MiB frame's length field (little-endian, 1 MiB − 4), then most of it
        var held = new List<TcpClient>();
        try
        {
            int cap = DistClip.Hosting.AkkaPort.InboundConnectionCap.DefaultPerAddress, refusedAtOnce = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 200; i++)
            {
                var client = new TcpClient { SendBufferSize = 1 << 21 };
                held.Add(client);
                client.Client.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await client.ConnectAsync(IPAddress.Loopback, port);
                try { await client.GetStream().WriteAsync(partialFrame); }
                catch (IOException) { refusedAtOnce++; }
            }
            // All but the cap closed, the cap's still open: Akka's handshake timeout (15 s) would close them all, so exactly
            // 200 − cap closed tells the cap's closes from the timeout's (the wait ends at 12 s, before it, at the latest).
            while (held.Count(LoopbackPorts.IsClosedByPeer) < 200 - cap && clock.Elapsed < TimeSpan.FromSeconds(12)) await Task.Delay(100);
            int closed = held.Count(LoopbackPorts.IsClosedByPeer);
            output.WriteLine($"{refusedAtOnce} writes failed, {closed} of 200 connections closed by the coordinator after {clock.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(200 - cap, closed);

            using var worker = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");
            var run = coordinator.Finish(Timeout);
            output.WriteLine(run.Stdout + run.Stderr);
            Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            var said = Assert.Single(run.Stderr.Split('\n'), l => l.Contains("refused a connection to the Akka port from 127.0.0.2", StringComparison.Ordinal));
            Assert.Contains($"that address holds {cap} open already", said);
            Assert.Equal(0, worker.Finish(TimeSpan.FromSeconds(60)).ExitCode);
            Assert.True(Saved(weights).AsSpan().SequenceEqual(Embedded(1)), "the run beside the flood is not the embedded trainer's, bit for bit");
        }
        finally
        {
            foreach (var client in held) client.Dispose();
        }
    }

    /// <summary>Random bytes, a length-prefixed frame of junk, or an HTTP request: what a port scanner or a confused client sends.</summary>
    private static async Task SendGarbageAsync(int port, Random random)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        byte[] payload = random.Next(3) switch
        {
            0 => System.Text.Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            1 => [64, 0, 0, 0, .. Enumerable.Range(0, 64).Select(_ => (byte)random.Next(256))],   // Akka's framing (little-endian), junk inside
            _ => Enumerable.Range(0, random.Next(1, 4096)).Select(_ => (byte)random.Next(256)).ToArray(),
        };
        try { await stream.WriteAsync(payload); await Task.Delay(20); }
        catch (IOException) { /* the node may close the connection at once: that is fine */ }
    }

    [Fact]
    public void Should_run_a_sweep_job_after_job_on_the_same_worker_processes()
    {
        int port = LoopbackPorts.Free();
        var outDir = Path.Combine(_dir, "sweep");
        using var sweep = CliProcess.Start("sweep", "--cluster", "--port", $"{port}", "--min-workers", "2", "--clips", "norm:0.2,agc:0.01,auto:50",
            "--model", "lenet", "--train-samples", "600", "--steps", "15", "--global-batch", "50", "--out", outDir);
        using var workers = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", "--workers", "2");

        var run = sweep.Finish(Timeout);
        Assert.True(run.ExitCode == 0, $"sweep exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var csv = File.ReadAllLines(Path.Combine(outDir, "sweep.csv"));
        Assert.Equal(["norm:0.2:2", "agc:0.01", "auto:50:2"], csv[1..].Select(l => l.Split(',')[0]));
        foreach (var dir in Directory.GetDirectories(outDir))
            Assert.Equal(15, File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Length);
        var w = workers.Finish(TimeSpan.FromSeconds(60));  // the workers end when the sweep's node leaves
        Assert.True(w.ExitCode == 0, w.Stderr);
    }
}
