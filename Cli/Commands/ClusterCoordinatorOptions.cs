// The options of a node that runs a cluster's training: `coordinator`, and `sweep --cluster` for each of its runs.
using System.CommandLine;
using DistClip.Hosting;

namespace DistClip.Cli.Commands;

/// <summary>How many workers a run waits for, and whether workers that compute otherwise are admitted.</summary>
/// <param name="applies">When the options apply, if not always (sweep: "With --cluster"); it heads their help.</param>
public sealed class ClusterCoordinatorOptions(string? applies = null)
{
    public Option<int> MinWorkers { get; } = new("--min-workers")
    {
        Description = Help(applies, $"start each run once this many worker actors have joined (env {EnvironmentNames.MinWorkers})."),
        DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.MinWorkers, 1),
    };

    public Option<bool> AllowMixedCompute { get; } = new("--allow-mixed-compute")
    {
        Description = Help(applies, "admit workers that compute otherwise than the cluster (--threads, CPU kernels, devices), with a warning: the run is then no longer bit-reproducible. Default: such a worker is refused."),
    };

    private static string Help(string? applies, string text) => applies is null ? char.ToUpperInvariant(text[0]) + text[1..] : $"{applies}: {text}";

    public void AddTo(Command command)
    {
        command.Options.Add(MinWorkers);
        command.Options.Add(AllowMixedCompute);
    }

    /// <summary>The workers to wait for; fewer than one is bad input.</summary>
    public int ReadMinWorkers(ParseResult parsed)
    {
        int min = parsed.GetValue(MinWorkers);
        if (min < 1) throw new ArgumentException($"--min-workers must be at least 1 (got {min}).");
        return min;
    }

    /// <summary>The run's settings with the admission rule for workers that compute otherwise.</summary>
    public TrainingSettings Apply(ParseResult parsed, TrainingSettings settings) =>
        settings with { AllowMixedCompute = parsed.GetValue(AllowMixedCompute) };
}
