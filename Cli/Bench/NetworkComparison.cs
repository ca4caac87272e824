// Raw TCP vs DistClip's exchange on loopback, and worker processes vs the embedded trainer, measured in one run.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DistClip.Exchange.Tls;

namespace DistClip.Cli.Bench;

/// <summary>What <c>distclip bench-network</c> measures and prints (docs/BENCHMARKS.md, "Network").</summary>
public static class NetworkComparison
{
    public static int Run(int[] sizes, long rawBytes, int e2eSteps, int e2eTurns, string? reportPath)
    {
        var lines = new List<string> { "| measurement | GB/s | fraction of raw TCP |", "| --- | ---: | ---: |" };
        double raw;
        using (var sink = Child("sink", out int sinkPort))
            raw = NetworkBenchmark.RawTcpAsync(sinkPort, rawBytes).GetAwaiter().GetResult();
        lines.Add(F($"| (a) raw TCP, one connection, {rawBytes / 1e9:F1} GB | {raw:F2} | 1 |"));
        Console.WriteLine(lines[^1]);
        var certificates = Directory.CreateTempSubdirectory("distclip-bench-tls-").FullName;
        ClusterCertificates.Create(certificates, ["echo", "bench"], TimeSpan.FromDays(1));
        using var tls = ClusterTls.Load(Path.Combine(certificates, "bench"), "--tls");
        using (var echo = Child("echo", out int echoPort, ["--tls", Path.Combine(certificates, "echo")]))
        {
            foreach (var n in sizes)
            {
                int repetitions = n >= 50_000_000 ? 3 : 4;  // the first of each is cold: its receive buffers are new memory
                Row($"(b) bulk channel (the cluster's data plane), {n / 1e6:F0} M float32", NetworkBenchmark.BulkExchangeAsync(echoPort, n, repetitions).GetAwaiter().GetResult());
                Row($"(b-tls) the same over mutual TLS (--tls; {OpenSslVersion.Description}), {n / 1e6:F0} M float32", NetworkBenchmark.BulkExchangeAsync(echoPort, n, repetitions, tls).GetAwaiter().GetResult());
                Row($"(b') Akka.Remote chunks (the fallback), {n / 1e6:F0} M float32", NetworkBenchmark.ExchangeAsync(echoPort, n, repetitions).GetAwaiter().GetResult());
            }
        }
        void Row(string what, double[] runs)
        {
            double best = runs.Max();
            lines.Add(F($"| {what}: gradient there, parameters back; best of {string.Join(", ", runs.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))} | {best:F2} | {best / raw:F2} |"));
            Console.WriteLine(lines[^1]);
        }
        if (e2eSteps > 0)
        {
            lines.Add("");
            lines.AddRange(EndToEnd(e2eSteps, e2eTurns, certificates));
        }
        Directory.Delete(certificates, recursive: true);
        if (reportPath is not null)
            File.AppendAllText(reportPath, $"\n### bench-network ({DateTime.UtcNow:yyyy-MM-dd})\n\nCommand: `./distclip {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}`\n\n{string.Join('\n', lines)}\n");
        return 0;
    }

    /// <summary>
    /// (c) samples/s of a coordinator and 2 worker processes vs the embedded trainer, same job, after the
    /// warm-up steps: with the data plane the processes choose on one host (shared memory), and with shared
    /// memory off (the bulk TCP channel, as between hosts), plain and with mutual TLS (<paramref name="certificates"/>:
    /// a <c>distclip certs</c> directory). Each worker process is pinned to a CPU of its own (--cpus), and so are the
    /// embedded trainer's workers. The four configurations take <paramref name="turns"/> turns, and each is reported by its
    /// best run, as (b) is (single runs on this VM vary by 5–30 %).
    /// </summary>
    private static IEnumerable<string> EndToEnd(int steps, int turns, string certificates)
    {
        const int warmup = 30;  // each of the three processes JITs its hot paths; on 2 cores that settles after ~30 steps
        var dir = Directory.CreateTempSubdirectory("distclip-bench-").FullName;
        string[] job = ["--model", "cnn", "--global-batch", "128", "--steps", $"{steps + warmup}", "--train-samples", "20000", "--no-eval", "--log-every", "1000000", "--threads", "1"];
        bool pin = Environment.ProcessorCount >= 2;
        string[] Cpus(string list) => pin ? ["--cpus", list] : [];
        string Metrics() => Path.Combine(dir, $"{Guid.NewGuid():N}.jsonl");
        double Embedded()
        {
            var metrics = Metrics();
            Exec(["train", "--workers", "2", .. Cpus("0,1"), "--metrics", metrics, .. job]);
            return SamplesPerSecond(metrics, warmup);
        }
        double Cluster(string sharedMemory, bool tls = false)
        {
            var metrics = Metrics();
            int port = FreePort();
            string[] node = ["--shared-memory", sharedMemory, .. tls ? new[] { "--tls", Path.Combine(certificates, "bench") } : []];
            using (var coordinator = Start(["coordinator", "--port", $"{port}", "--min-workers", "2", "--metrics", metrics, .. node, .. job]))
            using (Start(["worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", .. Cpus("0"), .. node]))
            using (Start(["worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", .. Cpus("1"), .. node]))
            {
                coordinator.StandardOutput.ReadToEnd();
                coordinator.WaitForExit();
            }
            return SamplesPerSecond(metrics, warmup);
        }
        var runs = Enumerable.Range(0, turns).Select(_ => (Embedded: Embedded(), Shared: Cluster("on"), Tcp: Cluster("off"), Tls: Cluster("off", tls: true))).ToList();
        Directory.Delete(dir, recursive: true);
        double embedded = runs.Max(r => r.Embedded), shared = runs.Max(r => r.Shared), tcp = runs.Max(r => r.Tcp), tls = runs.Max(r => r.Tls);
        string Of(Func<(double Embedded, double Shared, double Tcp, double Tls), double> pick) => string.Join(", ", runs.Select(r => pick(r).ToString("F0", CultureInfo.InvariantCulture)));
        Console.WriteLine(F($"(c) worker processes / embedded = {shared / embedded:F3} through shared memory, {tcp / embedded:F3} through the bulk channel, {tls / embedded:F3} through it over mutual TLS (TLS / plain = {tls / tcp:F3})"));
        yield return F($"| (c) cnn (3,274,634 parameters), global batch 128, 2 workers x 1 thread, {steps} steps after {warmup} warm-up | samples/s (best of) | fraction of embedded |");
        yield return "| --- | ---: | ---: |";
        yield return F($"| embedded trainer (one process), --cpus 0,1; runs: {Of(r => r.Embedded)} | {embedded:F0} | 1 |");
        yield return F($"| coordinator process + 2 worker processes (--cpus 0 and --cpus 1), one host: shared memory (the default); runs: {Of(r => r.Shared)} | {shared:F0} | **{shared / embedded:F3}** |");
        yield return F($"| the same with --shared-memory off: bulk TCP channel on loopback; runs: {Of(r => r.Tcp)} | {tcp:F0} | **{tcp / embedded:F3}** |");
        yield return F($"| the same over mutual TLS (--tls on every node: Akka.Remote and the bulk channel; {OpenSslVersion.Description}); runs: {Of(r => r.Tls)} | {tls:F0} | **{tls / embedded:F3}** ({tls / tcp:F3} of plain TCP) |");
    }

    /// <summary>Samples per second of the steps after <paramref name="skip"/> in a metrics file.</summary>
    private static double SamplesPerSecond(string metricsPath, int skip)
    {
        var steps = File.ReadLines(metricsPath).Select(l => JsonDocument.Parse(l).RootElement).Skip(skip).ToList();
        if (steps.Count == 0) throw new InvalidOperationException($"{metricsPath} has no steps after the first {skip}.");
        return steps.Sum(s => s.GetProperty("samples").GetDouble()) / steps.Sum(s => s.GetProperty("seconds").GetDouble());
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool PortIsFree(int port)
    {
        try { using var l = new TcpListener(IPAddress.Loopback, port); l.Start(); return true; }
        catch (SocketException) { return false; }
    }

    private static Process Start(string[] args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") info.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static string Exec(string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>A child process serving <paramref name="role"/>; killed when disposed.</summary>
    private static ChildProcess Child(string role, out int port, string[]? extra = null)
    {
        int free = FreePort();
        while (role == "echo" && !(PortIsFree(free + 1) && PortIsFree(free + 2))) free = FreePort();  // the echo's bulk channels take port + 1 and + 2
        port = free;
        var process = Start(["bench-network", "--serve", role, "--port", $"{port}", .. extra ?? []]);
        Thread.Sleep(role == "echo" ? 3000 : 500);  // let it bind
        return new ChildProcess(process);
    }

    private sealed class ChildProcess(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }
}
