// `distclip sweep`: one configuration under several clip specs, one run after another, compared.
using System.CommandLine;
using System.Globalization;
using System.Text;
using DistClip.Cli.Hosting;
using DistClip.Cli.Reports;
using DistClip.Coordinator.Clipping;

namespace DistClip.Cli.Commands;

public static class SweepCommand
{
    public static Command Create()
    {
        var o = new TrainingOptions(workerOptions: true);
        var clips = new Option<string>("--clips") { Description = "Comma-separated clip specs to compare, e.g. none,norm:1,layer:0.5,agc:0.01,auto:10.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the runs, sweep.csv and the PNGs.", DefaultValueFactory = _ => "sweep" };
        var cluster = new Option<bool>("--cluster") { Description = "Be the coordinator node of a cluster and run the specs one after another on its workers (started with distclip worker)." };
        var minWorkers = new Option<int>("--min-workers") { Description = "With --cluster: worker actors to wait for before each run (env DISTCLIP_MIN_WORKERS).", DefaultValueFactory = _ => EnvironmentDefaults.Int(EnvironmentNames.MinWorkers, 1) };
        var node = new NodeOptions();
        var command = new Command("sweep", "Train one configuration under several clip specs and compare test loss and accuracy, clip rate and time.") { clips, output, cluster, minWorkers };
        o.AddTo(command);
        node.AddTo(command);
        command.SetAction(p => Program.Guarded(() =>
        {
            var specs = p.GetValue(clips)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => { try { return ClipPolicy.Parse(s); } catch (ArgumentException e) { throw new ArgumentException($"--clips: {e.Message}"); } }).ToList();
            if (specs.Count == 0) throw new ArgumentException("--clips needs at least one spec.");
            // Each run's config.yaml is a `train` config: without the sweep's own keys or a clip of its own.
            var trainYaml = string.Concat(ResolvedOptions.ToYaml(p).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("clips:") && !l.StartsWith("out:") && !l.StartsWith("clip:")).Select(l => l + "\n"));
            var target = p.GetValue(cluster) ? new Target(node.Read(p, "coordinator"), p.GetValue(minWorkers)) : null;
            if (target is { MinWorkers: < 1 }) throw new ArgumentException($"--min-workers must be at least 1 (got {target.MinWorkers}).");
            return Run(o.Read(p) with { Evaluate = true }, specs, p.GetValue(output)!, trainYaml, target).GetAwaiter().GetResult();
        }));
        return command;
    }

    /// <summary>Where the runs train: a cluster's coordinator node, or (null) this process.</summary>
    private sealed record Target(NodeSettings Node, int MinWorkers);

    private static async Task<int> Run(TrainingSettings baseSettings, List<ClipPolicy> specs, string outputDir, string baseYaml, Target? target)
    {
        Directory.CreateDirectory(outputDir);
        var train = EmbeddedTrainer.LoadTrainSplit(baseSettings);
        await using var coordinator = target is null ? null : CoordinatorNode.Start(target.Node);
        if (coordinator is not null) Console.WriteLine($"sweep coordinator listening at {coordinator.Address}; each run waits for {target!.MinWorkers} worker actor(s)");
        var runs = new List<RunRecord>();
        var table = new List<string[]> { new[] { "clip", "test loss", "test accuracy", "clip rate", "skipped", "seconds", "samples/s" } };
        foreach (var (spec, i) in specs.Select((s, i) => (s, i)))
        {
            string dir = Path.Combine(outputDir, $"{i:D2}-{string.Concat(spec.ToString()!.Select(c => char.IsLetterOrDigit(c) || c == '.' ? c : '_'))}");
            var settings = baseSettings with { Clip = spec, RunDir = dir, MetricsPath = null, SaveTo = null };
            Console.WriteLine($"sweep {i + 1}/{specs.Count}: clip {spec} → {dir}");
            RunSummary summary;
            using (var run = TrainingRun.Start("sweep", settings, baseYaml + $"clip: '{spec}'\n", train, target?.MinWorkers ?? settings.Workers, TextWriter.Null))
            {
                var result = coordinator is null
                    ? await EmbeddedTrainer.RunAsync(run.Settings, run.Observer, train)
                    : await coordinator.RunAsync(CoordinatorSetup.Create(run.Settings, train, target!.MinWorkers), run.Observer);
                summary = run.Finish(result);
                result.Model.Dispose();  // a sweep trains many models in one process: free each one's native memory
            }
            runs.Add(RunRecord.Load(dir));  // after the run is disposed: its metrics file is complete
            table.Add([spec.ToString()!, F($"{summary.TestLoss:F4}"), F($"{summary.TestAccuracy:F4}"), F($"{summary.ClipRate:F3}"),
                F($"{summary.SkippedSteps}"), F($"{summary.Seconds:F1}"), F($"{summary.SamplesPerSecond:F0}")]);
        }
        PrintTable(table);
        var csv = new StringBuilder();
        foreach (var row in table) csv.AppendLine(string.Join(',', row.Select(c => c.Contains(',') ? $"\"{c}\"" : c)));
        File.WriteAllText(Path.Combine(outputDir, "sweep.csv"), csv.ToString());
        Console.WriteLine($"wrote {Path.Combine(outputDir, "sweep.csv")}");
        foreach (var path in SweepPlots.Render(runs, outputDir)) Console.WriteLine($"wrote {path}");
        return 0;
    }

    private static void PrintTable(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows) Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
