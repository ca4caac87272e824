// What a training command prints before and after the run, and the weights and evaluation at the end.
using System.Globalization;
using DistClip.Cli.Hosting;
using DistClip.Coordinator.Planning;
using DistClip.Models;
using DistClip.Models.Data;

namespace DistClip.Cli.Commands;

/// <summary>The start line with derived quantities, and the end: summary, saved weights, test accuracy.</summary>
public static class TrainingConsole
{
    /// <summary>Prints the resolved run and returns its total step count.</summary>
    public static long Announce(string command, TrainingSettings s, IImageDataset train, int workers)
    {
        var batches = new BatchSchedule(train.Count, s.GlobalBatch, s.Shuffle, s.Seed);
        long totalSteps = s.TotalSteps(batches.StepsPerEpoch);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"distclip {command}: {s.Model} on {train.Name} ({train.Count} samples), {workers} worker(s) x {s.Threads} thread(s) on {s.Device}; " +
            $"global batch {s.GlobalBatch} (~{(s.GlobalBatch + workers - 1) / workers} per worker), {batches.StepsPerEpoch} steps/epoch, {totalSteps} steps; clip {s.Clip}; " +
            $"{s.Optimizer.Name} lr {s.Optimizer.LearningRate} ({s.Schedule.Kind})"));
        return totalSteps;
    }

    public static void Finish(TrainingSettings settings, TrainingResult result)
    {
        var s = result.Summary;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done: {s.Steps} steps, {s.Samples} samples in {s.Seconds:F1} s ({s.SamplesPerSecond:F0} samples/s); clipped {100.0 * s.ClippedSteps / Math.Max(1, s.Steps):F1}% of steps; skipped {s.SkippedSteps}"));
        if (settings.SaveTo is not null)
        {
            Safetensors.Save(result.Model, settings.SaveTo, new Dictionary<string, string> { ["model"] = settings.Model, ["steps"] = s.Steps.ToString(CultureInfo.InvariantCulture) });
            Console.WriteLine($"saved weights to {settings.SaveTo}");
        }
        if (settings.Evaluate)
        {
            var test = DatasetCatalog.Load(settings.Dataset, Split.Test, settings.DataDir, settings.Seed);
            var eval = Evaluation.Classify(result.Model, test);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test: loss {eval.Loss:F4}  accuracy {eval.Accuracy:F4} ({eval.Samples} samples)"));
        }
    }
}
