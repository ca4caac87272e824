// `distclip train`: the embedded trainer (coordinator and N workers in this process).
using System.CommandLine;
using System.Globalization;
using DistClip.Cli.Hosting;
using DistClip.Coordinator;
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;
using DistClip.Models;
using DistClip.Models.Data;

namespace DistClip.Cli.Commands;

public static class TrainCommand
{
    public static Command Create()
    {
        var o = new TrainingOptions();
        var command = new Command("train", "Train on this machine: a coordinator and --workers worker actors in one process.");
        o.AddTo(command);
        command.SetAction(parse => Program.Guarded(() => Run(o.Read(parse))));
        return command;
    }

    private static int Run(TrainingSettings settings)
    {
        var train = EmbeddedTrainer.LoadTrainSplit(settings);
        var test = settings.Evaluate ? DatasetCatalog.Load(settings.Dataset, Split.Test, settings.DataDir, settings.Seed) : null;
        var batches = new Coordinator.Planning.BatchSchedule(train.Count, settings.GlobalBatch, settings.Shuffle, settings.Seed);
        long totalSteps = EmbeddedTrainer.TotalSteps(settings, batches);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"distclip train: {settings.Model} on {train.Name} ({train.Count} samples), {settings.Workers} worker(s) x {settings.Threads} thread(s) on {settings.Device}; " +
            $"global batch {settings.GlobalBatch} (~{(settings.GlobalBatch + settings.Workers - 1) / settings.Workers} per worker), {batches.StepsPerEpoch} steps/epoch, {totalSteps} steps; clip {Describe(settings.Clip)}; " +
            $"{settings.Optimizer.Name} lr {settings.Optimizer.LearningRate} ({settings.Schedule.Kind})"));

        using var progress = new ProgressLog(Console.Out, settings.LogEvery, totalSteps, settings.MetricsPath);
        var result = EmbeddedTrainer.RunAsync(settings, progress, train).GetAwaiter().GetResult();
        var s = result.Summary;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done: {s.Steps} steps, {s.Samples} samples in {s.Seconds:F1} s ({s.SamplesPerSecond:F0} samples/s); clipped {100.0 * s.ClippedSteps / Math.Max(1, s.Steps):F1}% of steps; skipped {s.SkippedSteps}"));
        if (settings.SaveTo is not null)
        {
            Safetensors.Save(result.Model, settings.SaveTo, new Dictionary<string, string> { ["model"] = settings.Model, ["steps"] = s.Steps.ToString(CultureInfo.InvariantCulture) });
            Console.WriteLine($"saved weights to {settings.SaveTo}");
        }
        if (test is not null)
        {
            var eval = Evaluation.Classify(result.Model, test);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test: loss {eval.Loss:F4}  accuracy {eval.Accuracy:F4} ({eval.Samples} samples)"));
        }
        return 0;
    }

    private static string Describe(ClipPolicy clip) => clip switch
    {
        ClipPolicy.GlobalNorm n => string.Create(CultureInfo.InvariantCulture, $"global norm {n.MaxNorm} (p = {n.NormType})"),
        ClipPolicy.Value v => string.Create(CultureInfo.InvariantCulture, $"value {v.Limit}"),
        _ => "none",
    };
}
