// Builds what a coordinator needs from the settings: the job, the master weights, the batch plan, its checkpoints.
using DistClip.Coordinator;
using DistClip.Coordinator.Steps;
using DistClip.Hosting.Checkpoints;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Core;

namespace DistClip.Hosting;

/// <summary>Everything a <see cref="CoordinatorActor"/> is built from, for the embedded and the cluster deployment alike.</summary>
/// <param name="Checkpoints">Where the run's state is kept; null when the run has no checkpoint folder.</param>
public sealed record CoordinatorSetup(JobSpec Job, MasterWeights Master, BatchOrder Batches, CoordinatorPlan Plan, RunCheckpoints? Checkpoints = null)
{
    /// <param name="minWorkers">Worker actors to wait for before the first step.</param>
    /// <param name="say">Told which checkpoint a resumed run starts from, and each it passed over.</param>
    /// <param name="checkData">Ask every worker to prove its copy of the data is this one (not needed when they share this very object in-process).</param>
    /// <exception cref="ArgumentException">The settings contradict the checkpoint they resume, or --resume names no usable checkpoint.</exception>
    public static CoordinatorSetup Create(TrainingSettings settings, IImageDataset train, int minWorkers, Action<string>? say = null, bool checkData = true)
    {
        say ??= _ => { };
        var spec = RunInputs.SpecFor(settings, train);
        var batches = new BatchOrder(train.Count, settings.GlobalBatch, settings.Shuffle, settings.Seed);
        long totalSteps = settings.TotalSteps(batches.StepsPerEpoch);
        int shards = settings.Shards ?? minWorkers;
        var trajectory = RunTrajectory.Of(settings, shards);
        var model = ModelZoo.Create(spec, settings.Seed);
        if (settings.InitFrom is not null) Safetensors.Load(model, settings.InitFrom);
        var master = new MasterWeights(model, settings.Optimizer, settings.Schedule, totalSteps, settings.Clip, settings.NonFinite, settings.EmaDecay);
        var compute = ComputeFingerprint.Of("cpu", settings.Threads);   // the coordinator's, which every worker must match
        RunCounters? resumed = null;
        try
        {
            if (ResumePoint(settings, master, say) is var (folder, state))
            {
                if (RunTrajectory.Contradiction(state.Trajectory, trajectory) is { } contradiction) throw new ArgumentException(contradiction);
                master.ReadState(folder, state.Step, state.Version, state.ClipHistory);
                resumed = state.Counters;
                say($"resuming from {folder}: step {state.Step} of {totalSteps}");
                if (state.Compute is { } written && written != compute.Describe())
                    say($"the checkpoint was written on other compute ({written}) than this run's ({compute.Describe()}): the resumed run goes on, but it is no longer bit-identical to the uninterrupted one");
            }
        }
        catch
        {
            master.Dispose();
            throw;
        }
        var challenge = checkData ? DataFingerprint.Challenge(train.Count, settings.Seed) : null;
        var replica = settings.Exchange == ExchangeMode.Sharded
            ? Worker.ReplicaFactory.SpecOf(settings.Optimizer, settings.Schedule, totalSteps, settings.Clip, settings.EmaDecay) : null;
        var job = new JobSpec(spec, settings.Dataset, settings.Seed, settings.TrainSamples, settings.MicroBatch, settings.Augmentation, challenge, replica);
        var fingerprint = new ClusterFingerprint(compute, train.Name, train.Count, challenge is null ? null : DataFingerprint.Of(train, challenge), settings.AllowMixedCompute);
        var checkpoints = settings.CheckpointFolder is { } dir
            ? new RunCheckpoints(new CheckpointStore(dir, settings.KeepCheckpoints), settings.CheckpointEvery, trajectory, resumed?.Steps ?? 0, say, compute.Describe())
            : null;
        return new CoordinatorSetup(job, master, batches, new CoordinatorPlan(totalSteps, minWorkers, settings.Threads, Shards: shards, Resumed: resumed,
            MaxBadShards: settings.MaxBadShards, Fingerprint: fingerprint, ReplicaCheckEvery: settings.ReplicaCheckEvery), checkpoints);
    }

    /// <summary>The checkpoint <see cref="TrainingSettings.Resume"/> asks for: null for a fresh run (no --resume, or auto with none yet).</summary>
    private static (string Folder, CheckpointState State)? ResumePoint(TrainingSettings settings, MasterWeights master, Action<string> say)
    {
        if (settings.Resume is not { } resume) return null;
        var path = resume != "auto" ? resume : settings.CheckpointFolder
            ?? throw new ArgumentException("--resume auto needs --checkpoint-dir or --run-dir (where the run's checkpoints are).");
        var found = CheckpointCatalog.Newest(path, state => state.ModelHash == master.Signature.Hash ? null
            : $"it holds another model ({state.ModelDescription}; this run's is {master.Signature.Description})", say);
        if (found is null && resume != "auto") throw new ArgumentException($"--resume {resume}: no valid checkpoint of this model there.");
        if (found is null) say($"no checkpoint in {path} yet: starting a fresh run");
        return found;
    }

    /// <param name="bulk">The coordinator's bulk channel for remote workers; null inside one process.</param>
    /// <param name="secret">The cluster's join secret, which workers must prove before they learn anything of the run; null for none.</param>
    public Akka.Actor.Props Props(ITrainingObserver observer, TaskCompletionSource<TrainingSummary> done, Exchange.ExchangeSettings? bulk = null, JoinSecret? secret = null) =>
        CoordinatorActor.Props(Job, Master, Batches, Plan, observer, done, bulk, Checkpoints, secret).WithDispatcher(AkkaDefaults.CoordinatorDispatcher);

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
