// Where a run trains: this process's worker actors, or the workers of a cluster.
using DistClip.Hosting.Metrics;
using DistClip.Models.Data;

namespace DistClip.Hosting;

/// <summary>
/// Where <see cref="TrainingPipeline"/> trains a run: how many worker actors the coordinator waits for (the
/// derived quantities of the banner count them), and how the job the setup describes is run there.
/// </summary>
/// <param name="Workers">Worker actors the coordinator waits for before the first step.</param>
/// <param name="TrainAsync">Runs the job of a setup, reporting to the run's observer, with the run's training split.</param>
/// <param name="SharesData">The workers read the coordinator's own copy of the data (in this process): nothing to check at join.</param>
public sealed record TrainingTarget(int Workers, Func<CoordinatorSetup, RunOutputs, IImageDataset, Task<TrainingResult>> TrainAsync, bool SharesData = false)
{
    /// <summary>The embedded trainer: <see cref="TrainingSettings.Workers"/> worker actors in this process.</summary>
    /// <param name="metrics">The run's metrics, health and readiness go there; null: no endpoint.</param>
    public static TrainingTarget Embedded(int workers, MetricsEndpoint? metrics = null) =>
        new(workers, (setup, run, train) => EmbeddedTrainer.RunAsync(setup, run.Settings, MetricsObserver.Beside(run.Observer, metrics, setup, run.Stop), train, run.Stop,
            metrics?.Health), SharesData: true);

    /// <summary>A coordinator node started for this one job, which leaves the cluster when the job ends (a completed one after <paramref name="linger"/>).</summary>
    /// <param name="metrics">The run's and the node's metrics, health and readiness go there; null: no endpoint.</param>
    public static TrainingTarget ClusterJob(NodeSettings node, int minWorkers, TextWriter output, CompletedRunLinger? linger = null, MetricsEndpoint? metrics = null) =>
        new(minWorkers, (setup, run, _) => ClusterTrainer.RunCoordinatorAsync(setup, node, run.Settings.Threads, MetricsObserver.Beside(run.Observer, metrics, setup, run.Stop),
            output, run.Stop, linger, metrics));

    /// <summary>A coordinator node that runs job after job (a sweep), on the workers that stay in its cluster.</summary>
    public static TrainingTarget OnNode(CoordinatorNode node, int minWorkers) =>
        new(minWorkers, (setup, run, _) => node.RunAsync(setup, run.Observer, run.Stop));
}
