// `distclip sweep`: one configuration under several clip specs, one run after another, compared.
using System.CommandLine;
using System.Globalization;
using System.Text;
using DistClip.Hosting;
using DistClip.Cli.Reports;
using DistClip.Training.Clipping;
using DistClip.Coordinator.Steps;
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Robustness;

namespace DistClip.Cli.Commands;

public static class SweepCommand
{
    public static Command Create()
    {
        var o = new TrainingOptions(workerOptions: true);
        var clips = new Option<string>("--clips") { Description = "Comma-separated clip specs to compare, e.g. none,norm:1,layer:0.5,agc:0.01,auto:10.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the runs, sweep.csv and the PNGs.", DefaultValueFactory = _ => "sweep" };
        var folds = new Option<int>("--folds") { Description = "k-fold cross-validation on the training split (k >= 2): each spec trains k times and is judged on the held-out folds. 0: judge on the test split.", DefaultValueFactory = _ => 0 };
        var cluster = new Option<bool>("--cluster") { Description = "Be the coordinator node of a cluster and run the specs one after another on its workers (started with distclip worker)." };
        var clusterRuns = new ClusterCoordinatorOptions("With --cluster");
        var select = new Option<string>("--select") { Description = "How the best spec is chosen: accuracy (the task's metric on the judged data), or robust-acc:SPEC (accuracy under a perturbation, e.g. robust-acc:fgsm:0.03; it is added to --eval-robustness).", DefaultValueFactory = _ => "accuracy" };
        var node = new NodeOptions();
        var command = new Command("sweep", "Train one configuration under several clip specs and compare loss and metric, clip rate and time.") { clips, output, folds, cluster, select };
        clusterRuns.AddTo(command);
        o.AddTo(command);
        node.AddTo(command);
        command.SetAction(p => CommandGuard.Run(() =>
        {
            var specs = p.GetValue(clips)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => { try { return ClipPolicy.Parse(s); } catch (ArgumentException e) { throw new ArgumentException($"--clips: {e.Message}"); } }).ToList();
            if (specs.Count == 0) throw new ArgumentException("--clips needs at least one spec.");
            int k = p.GetValue(folds);
            if (k is 1 or < 0) throw new ArgumentException($"--folds must be 0 (off) or at least 2 (got {k}).");
            if (k > 0 && p.GetValue(cluster)) throw new ArgumentException("--folds works with the embedded trainer only, not with --cluster (workers read whole splits).");
            if (!p.GetValue(cluster) && p.GetValue(clusterRuns.AllowMixedCompute))
                throw new ArgumentException("--allow-mixed-compute admits the workers of a cluster sweep: add --cluster (an embedded sweep's workers all compute alike).");
            // Each run's config.yaml is a `train` config: only keys `train` takes (not the sweep's own, nor the cluster
            // node's), and not the clip, which each run adds.
            var trainKeys = TrainCommand.Create().Options.Select(o => o.Name.TrimStart('-')).Where(k => k != "clip").ToHashSet();
            var trainYaml = string.Concat(ResolvedOptions.ToYaml(p).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => trainKeys.Contains(l[..Math.Max(0, l.IndexOf(':'))])).Select(l => l + "\n"));
            var runSettings = clusterRuns.Apply(p, o.Read(p));
            var objective = SweepObjective.Parse(p.GetValue(select)!);
            if (objective.Under is { } under && !runSettings.EvalRobustness.Contains(under))
                runSettings = runSettings with { EvalRobustness = [.. runSettings.EvalRobustness, under] };
            if (runSettings.Resume is not (null or "auto"))
                throw new ArgumentException("--resume in a sweep can only be auto: each run resumes from the checkpoints in its own folder under --out.");
            if (runSettings.CheckpointDir is not null)
                throw new ArgumentException("--checkpoint-dir does not apply to a sweep: each run keeps its checkpoints in its own folder under --out.");
            var target = p.GetValue(cluster) ? new Target(node.Read(p, "coordinator") with { LogLevel = runSettings.LogLevel }, clusterRuns.ReadMinWorkers(p)) : null;
            return Run(runSettings with { Evaluate = k == 0 }, specs, k, p.GetValue(output)!, trainYaml, target, objective).GetAwaiter().GetResult();
        }));
        return command;
    }

    /// <summary>Where the runs train: a cluster's coordinator node, or (null) this process.</summary>
    private sealed record Target(NodeSettings Node, int MinWorkers);

    /// <summary>How one training came out: its record, and its loss, task metric and robustness figures on the data it is judged on.</summary>
    private sealed record Outcome(RunRecord Record, RunReport Summary, double Loss, double Metric, IReadOnlyList<RobustnessFigure> Robustness);

    private static async Task<int> Run(TrainingSettings baseSettings, List<ClipPolicy> specs, int folds, string outputDir, string baseYaml, Target? target, SweepObjective objective)
    {
        using var stop = new StopRequest().ListenToSignals();  // ends the run in progress, and so the sweep
        OutputPaths.CheckFolder("--out", outputDir);
        var train = RunInputs.LoadTrainSplit(baseSettings);
        string metricName = MetricName(train);
        await using var coordinator = target is null ? null : CoordinatorNode.Start(target.Node);
        if (coordinator is not null) Console.WriteLine($"sweep coordinator listening at {coordinator.Address}; each run waits for {target!.MinWorkers} worker actor(s)");

        async Task<Outcome> Train(TrainingSettings settings, IImageDataset data, IImageDataset? validation)
        {
            var where = coordinator is null ? TrainingTarget.Embedded(settings.Workers) : TrainingTarget.OnNode(coordinator, target!.MinWorkers);
            var (summary, result) = await TrainingPipeline.RunAsync("sweep", settings, baseYaml + $"clip: '{settings.Clip}'\n", data, where, TextWriter.Null, stop);
            var augmenter = settings.Augmentation.IsNone ? null : new Augmenter(settings.Augmentation, settings.Seed);
            var held = validation is null ? null : Evaluation.Evaluate(result.Model, validation, augmenter: augmenter);
            var heldRobustness = validation is null || settings.EvalRobustness.Count == 0 ? []
                : RobustnessEvaluation.Evaluate(result.Model, validation, settings.EvalRobustness, settings.Seed, augmenter: augmenter);
            result.Model.Dispose();  // a sweep trains many models in one process: free each one's native memory
            var record = RunRecord.Load(settings.RunDir!);  // the run is over and disposed: its metrics file is complete
            return held is null
                ? new Outcome(record, summary, summary.TestLoss ?? double.NaN, summary.TestAccuracy ?? summary.TestR2 ?? double.NaN, summary.Robustness ?? [])
                : new Outcome(record, summary, held.Loss, held.Accuracy ?? held.R2 ?? double.NaN, heldRobustness);
        }

        var foldOf = folds > 0 ? FoldAssignment(train.Count, folds, baseSettings.Seed) : null;
        var firstRuns = new List<RunRecord>();
        var metrics = new List<double>();
        var perturbations = baseSettings.EvalRobustness;
        var robustMetrics = perturbations.Select(_ => new List<double>()).ToArray();  // [perturbation][spec]: mean accuracy under it
        string judged = folds > 0 ? $"val ({folds}-fold)" : "test";
        var table = new List<string[]> { new[] { "clip", $"{judged} loss", $"{judged} {metricName}", "clip rate", "skipped", "seconds", "samples/s" }
            .Concat(perturbations.SelectMany(q => new[] { $"{q} {metricName}", $"{q} output change" })).ToArray() };
        foreach (var (spec, i) in specs.Select((s, i) => (s, i)))
        {
            string dir = Path.Combine(outputDir, $"{i:D2}-{string.Concat(spec.ToString()!.Select(c => char.IsLetterOrDigit(c) || c == '.' ? c : '_'))}");
            var settings = baseSettings with { Clip = spec, RunDir = dir, MetricsPath = null, SaveTo = null };
            Console.WriteLine($"sweep {i + 1}/{specs.Count}: clip {spec} → {dir}");
            var outcomes = new List<Outcome>();
            if (foldOf is null) outcomes.Add(await Train(settings, train, null));
            else
                for (int f = 0; f < folds; f++)
                {
                    var (fit, held) = Split(train, foldOf, f);
                    outcomes.Add(await Train(settings with { RunDir = Path.Combine(dir, $"fold-{f}"), TrainSamples = null }, fit, held));
                }
            firstRuns.Add(outcomes[0].Record);
            metrics.Add(outcomes.Average(o => o.Metric));
            var robustCells = new List<string>();
            for (int q = 0; q < perturbations.Count; q++)
            {
                var figures = outcomes.Select(o => o.Robustness.Single(f => f.Spec == perturbations[q].ToString())).ToList();
                robustMetrics[q].Add(figures.Average(f => f.Accuracy ?? double.NaN));
                robustCells.Add(MeanAndSpread(figures.Select(f => f.Accuracy ?? double.NaN)));
                robustCells.Add(MeanAndSpread(figures.Select(f => f.OutputChangeMean)));
            }
            table.Add([spec.ToString()!, MeanAndSpread(outcomes.Select(o => o.Loss)), MeanAndSpread(outcomes.Select(o => o.Metric)),
                F($"{outcomes.Average(o => o.Summary.ClipRate):F3}"), F($"{outcomes.Sum(o => o.Summary.SkippedSteps)}"),
                F($"{outcomes.Sum(o => o.Summary.Seconds):F1}"), F($"{outcomes.Average(o => o.Summary.SamplesPerSecond):F0}"), .. robustCells]);
        }
        PrintTable(table);
        var judgedBy = objective.Under is { } by ? robustMetrics[perturbations.ToList().IndexOf(by)] : metrics;
        int best = Enumerable.Range(0, specs.Count).MaxBy(i => double.IsNaN(judgedBy[i]) ? double.NegativeInfinity : judgedBy[i]);
        Console.WriteLine(F($"selected: {specs[best]} ({objective.Describe(judged, metricName)} {judgedBy[best]:F4})"));
        var csv = new StringBuilder();
        foreach (var row in table) csv.AppendLine(string.Join(',', row.Select(c => c.Contains(',') ? $"\"{c}\"" : c)));
        File.WriteAllText(Path.Combine(outputDir, "sweep.csv"), csv.ToString());
        Console.WriteLine($"wrote {Path.Combine(outputDir, "sweep.csv")}");
        foreach (var path in SweepPlots.Render(firstRuns, metrics, $"{judged} {metricName}", outputDir)) Console.WriteLine($"wrote {path}");
        for (int q = 0; q < perturbations.Count; q++)
            Console.WriteLine($"wrote {SweepPlots.RenderRobustness(specs.Select(s => s.ToString()!).ToList(), metrics, robustMetrics[q], $"{judged} {metricName}", perturbations[q].ToString()!, outputDir)}");
        return 0;
    }

    private static string MetricName(IImageDataset data) => data.Task switch
    {
        Core.TaskKind.Regression => "r2",
        Core.TaskKind.Segmentation => "pixel accuracy",
        _ => "accuracy",
    };

    /// <summary>The fold of each training sample: a seeded permutation cut into k near-equal parts.</summary>
    private static int[] FoldAssignment(int count, int folds, int seed)
    {
        var order = BatchOrder.Permutation(count, seed, epoch: -1);
        var fold = new int[count];
        var parts = ShardPlan.Split(order, folds);
        for (int f = 0; f < folds; f++) foreach (var i in parts[f]) fold[i] = f;
        return fold;
    }

    private static (IImageDataset Fit, IImageDataset Held) Split(IImageDataset data, int[] foldOf, int fold) =>
        (new DatasetSubset(data, Enumerable.Range(0, data.Count).Where(i => foldOf[i] != fold).ToArray(), $"{data.Name} without fold {fold}"),
         new DatasetSubset(data, Enumerable.Range(0, data.Count).Where(i => foldOf[i] == fold).ToArray(), $"{data.Name} fold {fold}"));

    private static string MeanAndSpread(IEnumerable<double> values)
    {
        var v = values.ToList();
        double mean = v.Average();
        return v.Count == 1 ? F($"{mean:F4}") : F($"{mean:F4} ± {Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)):F4}");
    }

    private static void PrintTable(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows) Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
