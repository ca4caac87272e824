// Builds what a coordinator needs from the settings: the job, the master weights, the batch plan.
using DistClip.Coordinator;
using DistClip.Coordinator.Steps;
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Core;

namespace DistClip.Hosting;

/// <summary>Everything a <see cref="CoordinatorActor"/> is built from, for the embedded and the cluster deployment alike.</summary>
public sealed record CoordinatorSetup(JobSpec Job, MasterWeights Master, BatchOrder Batches, CoordinatorPlan Plan)
{
    /// <param name="minWorkers">Worker actors to wait for before the first step.</param>
    public static CoordinatorSetup Create(TrainingSettings settings, IImageDataset train, int minWorkers)
    {
        var spec = RunInputs.SpecFor(settings, train);
        var batches = new BatchOrder(train.Count, settings.GlobalBatch, settings.Shuffle, settings.Seed);
        long totalSteps = settings.TotalSteps(batches.StepsPerEpoch);
        var model = ModelZoo.Create(spec, settings.Seed);
        if (settings.InitFrom is not null) Safetensors.Load(model, settings.InitFrom);
        var master = new MasterWeights(model, settings.Optimizer, settings.Schedule, totalSteps, settings.Clip, settings.NonFinite, settings.EmaDecay);
        var job = new JobSpec(spec, settings.Dataset, settings.Seed, settings.TrainSamples, settings.MicroBatch, settings.Augmentation);
        return new CoordinatorSetup(job, master, batches, new CoordinatorPlan(totalSteps, minWorkers, settings.Threads));
    }

    /// <param name="bulk">The coordinator's bulk channel for remote workers; null inside one process.</param>
    public Akka.Actor.Props Props(ITrainingObserver observer, TaskCompletionSource<TrainingSummary> done, Exchange.ExchangeSettings? bulk = null) =>
        CoordinatorActor.Props(Job, Master, Batches, Plan, observer, done, bulk).WithDispatcher(AkkaDefaults.CoordinatorDispatcher);

    public TrainingResult Result(TrainingSummary summary) =>
        new(summary, Master.Model, new FlatParameters(Master.Model).ReadValues(), Job.Model, Master.AverageValues());

    /// <summary>The result of the coordinator's run; a coordinator that stopped early is reported with what it had trained.</summary>
    /// <exception cref="TrainingEndedException">The coordinator stopped before its last step.</exception>
    public async Task<TrainingResult> ResultOf(Task<TrainingSummary> done)
    {
        try { return Result(await done.ConfigureAwait(false)); }
        catch (TrainingStoppedException e) { throw new TrainingEndedException(Result(e.Summary), e.InnerException!); }
    }
}
