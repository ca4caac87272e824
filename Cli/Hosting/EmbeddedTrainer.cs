// Runs a whole training job in one process: one actor system, a coordinator and N worker actors.
using Akka.Actor;
using Akka.Configuration;
using DistClip.Coordinator;
using DistClip.Coordinator.Planning;
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Worker;
using static TorchSharp.torch;

namespace DistClip.Cli.Hosting;

/// <summary>The outcome of a run: the summary, the trained master model and its flat parameters.</summary>
public sealed record TrainingResult(TrainingSummary Summary, nn.Module<Tensor, Tensor> Model, float[] Parameters, ModelSpec Spec);

/// <summary>
/// The embedded deployment: coordinator and workers as actors of one ActorSystem, messages passed by
/// reference. Each worker gets a device (<c>cuda:i</c> round-robin over visible GPUs, or <c>cpu</c>)
/// and a pinned thread.
/// </summary>
public static class EmbeddedTrainer
{
    /// <summary>The data set's training split, shortened to <see cref="TrainingSettings.TrainSamples"/>.</summary>
    public static InMemoryImageDataset LoadTrainSplit(TrainingSettings s)
    {
        var train = DatasetCatalog.Load(s.Dataset, Split.Train, s.DataDir, s.Seed);
        return s.TrainSamples is int n && n < train.Count ? train.Take(n) : train;
    }

    public static ModelSpec SpecFor(TrainingSettings s, IImageDataset data) =>
        new(s.Model, data.Channels, data.Height, data.Width, data.Classes, s.Hidden);

    /// <summary>Total optimizer steps of the run: <c>--steps</c>, else epochs × steps per epoch.</summary>
    public static long TotalSteps(TrainingSettings s, BatchSchedule batches) => s.Steps ?? (long)s.Epochs * batches.StepsPerEpoch;

    public static async Task<TrainingResult> RunAsync(TrainingSettings settings, ITrainingObserver observer, IImageDataset? train = null)
    {
        settings.Validate();
        train ??= LoadTrainSplit(settings);
        var spec = SpecFor(settings, train);
        var devices = WorkerDevices(settings);
        set_num_threads(settings.Threads);

        var batches = new BatchSchedule(train.Count, settings.GlobalBatch, settings.Shuffle, settings.Seed);
        long totalSteps = TotalSteps(settings, batches);
        var model = ModelZoo.Create(spec, settings.Seed);
        if (settings.InitFrom is not null) Safetensors.Load(model, settings.InitFrom);
        var master = new MasterWeights(model, settings.Optimizer, settings.Schedule, totalSteps, settings.Clip, settings.NonFinite);

        var done = new TaskCompletionSource<TrainingSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var system = ActorSystem.Create("distclip", ConfigurationFactory.ParseString(AkkaDefaults.Hocon));
        try
        {
            var job = new TrainingJob(spec, settings.Dataset, settings.Seed, settings.TrainSamples, settings.MicroBatch);
            var coordinator = system.ActorOf(CoordinatorActor.Props(job, master, batches, new TrainingPlan(totalSteps, settings.Workers), observer, done)
                .WithDispatcher(AkkaDefaults.CoordinatorDispatcher), "coordinator");
            for (int i = 0; i < settings.Workers; i++)
            {
                var ws = new WorkerSettings($"worker-{i}", devices[i], settings.Threads);
                system.ActorOf(WorkerActor.Props(coordinator, ws, _ => train).WithDispatcher(AkkaDefaults.WorkerDispatcher), ws.Name);
            }
            var summary = await done.Task.ConfigureAwait(false);
            return new TrainingResult(summary, model, new FlatParameters(model).ReadValues(), spec);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>The device string of each worker.</summary>
    public static string[] WorkerDevices(TrainingSettings s)
    {
        if (s.Device == "cpu") return Enumerable.Repeat("cpu", s.Workers).ToArray();
        int gpus = cuda.is_available() ? cuda.device_count() : 0;
        if (gpus == 0)
            throw new ArgumentException("--device cuda: no CUDA device is visible (this build may be the CPU one; build with -p:TorchBackend=cuda).");
        return Enumerable.Range(0, s.Workers).Select(i => $"cuda:{i % gpus}").ToArray();
    }
}
