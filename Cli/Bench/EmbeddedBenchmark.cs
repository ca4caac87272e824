// Samples/s of the embedded trainer against plain single-process TorchSharp loops, measured in turns in one run.
using System.Globalization;
using DistClip.Hosting;
using DistClip.Coordinator;

namespace DistClip.Cli.Bench;

/// <summary>What <c>distclip bench</c> measures and prints (docs/BENCHMARKS.md, "Embedded trainer vs a plain single-process TorchSharp loop").</summary>
public static class EmbeddedBenchmark
{
    private sealed class StepTimes(int skip) : ITrainingObserver
    {
        public double Seconds { get; private set; }
        public long Samples { get; private set; }
        public void OnStep(StepReport r)
        {
            if (r.Step < skip) return;
            Seconds += r.Seconds;
            Samples += r.Samples;
        }
    }

    public static int Run(TrainingSettings s, int warmup, string? reportPath)
    {
        var train = RunInputs.LoadTrainSplit(s);
        int timed = (int)(s.Steps ?? 200);
        var settings = s with { Steps = warmup + timed };
        Console.WriteLine($"bench: {s.Model}, global batch {s.GlobalBatch}, {timed} timed steps after {warmup} warm-up steps, {train.Name}, {s.Exchange.ToString().ToLowerInvariant()} exchange");

        int n = s.Workers, t = s.Threads;
        double DistClip()
        {
            var times = new StepTimes(warmup);
            int[] gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            EmbeddedTrainer.RunAsync(settings, times, train).GetAwaiter().GetResult().Model.Dispose();
            Console.WriteLine($"garbage collections during a DistClip run: gen0 {GC.CollectionCount(0) - gcBefore[0]}, gen1 {GC.CollectionCount(1) - gcBefore[1]}, gen2 {GC.CollectionCount(2) - gcBefore[2]}");
            return times.Samples / times.Seconds;
        }
        // Two turns of all four, each reported by its better turn: the first loop of a process sometimes runs
        // cold, and a single slow baseline would flatter every ratio taken against it.
        var turns = Enumerable.Range(0, 2).Select(_ => (
            Single1: SingleProcessBaseline.SamplesPerSecond(settings, train, 1, 1, warmup, timed),
            SingleNT: SingleProcessBaseline.SamplesPerSecond(settings, train, 1, n * t, warmup, timed),
            Ceiling: SingleProcessBaseline.SamplesPerSecond(settings, train, n, t, warmup, timed),
            DistClip: DistClip())).ToList();
        double single1 = turns.Max(r => r.Single1), singleNT = turns.Max(r => r.SingleNT), ceiling = turns.Max(r => r.Ceiling), distclip = turns.Max(r => r.DistClip);
        string Of(Func<(double Single1, double SingleNT, double Ceiling, double DistClip), double> pick) =>
            string.Join(", ", turns.Select(r => pick(r).ToString("F0", CultureInfo.InvariantCulture)));

        var lines = new[]
        {
            "| configuration | samples/s (best of two turns) | turns |",
            "| --- | ---: | ---: |",
            $"| single process, 1 thread, whole batch | {single1:F0} | {Of(r => r.Single1)} |",
            $"| single process, {n * t} threads, whole batch | {singleNT:F0} | {Of(r => r.SingleNT)} |",
            $"| {n} independent loops x {t} thread(s), 1/{n} of each batch, no exchange (parallel ceiling) | {ceiling:F0} | {Of(r => r.Ceiling)} |",
            $"| DistClip embedded ({s.Exchange.ToString().ToLowerInvariant()}), {n} workers x {t} thread(s) | {distclip:F0} | {Of(r => r.DistClip)} |",
            "",
            $"DistClip / ({n} x single-process 1-thread) = **{distclip / (n * single1):F3}**; " +
            $"DistClip / single-process {n * t}-thread = **{distclip / singleNT:F3}**; " +
            $"DistClip / parallel ceiling = **{distclip / ceiling:F3}**; " +
            $"ceiling / ({n} x single-process 1-thread) = {ceiling / (n * single1):F3}",
        }.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray();
        foreach (var line in lines) Console.WriteLine(line);

        if (reportPath is not null)
        {
            var header = $"\n### {s.Model}, global batch {s.GlobalBatch}, {s.Workers} workers x {s.Threads} threads ({DateTime.UtcNow:yyyy-MM-dd})\n\n" +
                         $"Machine: {MachineDescription()}. Command: `./distclip bench {string.Join(' ', Environment.GetCommandLineArgs().Skip(2))}`\n\n";
            File.AppendAllText(reportPath, header + string.Join('\n', lines) + "\n");
        }
        return 0;
    }

    private static string MachineDescription()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : "unknown CPU";
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores ({cpu}), {memory:F0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
    }
}
