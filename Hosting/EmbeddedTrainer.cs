// Runs a whole training job in one process: one actor system, a coordinator and N worker actors.
using Akka.Actor;
using Akka.Configuration;
using DistClip.Coordinator;
using DistClip.Models.Data;
using DistClip.Protocol;
using DistClip.Worker;
using static TorchSharp.torch;

namespace DistClip.Hosting;

/// <summary>
/// The embedded deployment: coordinator and workers as actors of one ActorSystem, messages passed by
/// reference. Each worker gets a device (<c>cuda:i</c> round-robin over visible GPUs, or <c>cpu</c>)
/// and a thread of its own.
/// </summary>
public static class EmbeddedTrainer
{
    /// <param name="stop">When it is requested, the run ends at the last completed step (<see cref="TrainingSummary.StoppedBecause"/>).</param>
    /// <exception cref="TrainingEndedException">The coordinator stopped before its last step; the partial result is inside.</exception>
    public static Task<TrainingResult> RunAsync(TrainingSettings settings, ITrainingObserver observer, IImageDataset? train = null, StopRequest? stop = null)
    {
        settings.Validate();
        train ??= RunInputs.LoadTrainSplit(settings);
        return RunAsync(CoordinatorSetup.Create(settings, train, minWorkers: settings.Workers, checkData: false), settings, observer, train, stop);
    }

    /// <summary>Runs the job <paramref name="setup"/> describes on <see cref="TrainingSettings.Workers"/> worker actors of this process.</summary>
    /// <param name="health">Told the actor system, and ready once the coordinator and its workers are started (a metrics endpoint's).</param>
    /// <inheritdoc cref="RunAsync(TrainingSettings, ITrainingObserver, IImageDataset?, StopRequest?)"/>
    public static async Task<TrainingResult> RunAsync(CoordinatorSetup setup, TrainingSettings settings, ITrainingObserver observer, IImageDataset train, StopRequest? stop = null,
        Metrics.HealthState? health = null)
    {
        var devices = WorkerDevices(settings.Device, settings.Workers);
        set_num_threads(settings.Threads);

        var done = new TaskCompletionSource<TrainingSummary>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var system = ActorSystem.Create(NodeSettings.SystemName,
            ConfigurationFactory.ParseString(LogLevels.Hocon(settings.LogLevel)).WithFallback(ConfigurationFactory.ParseString(AkkaDefaults.Hocon)));
        health?.Follow(system);
        try
        {
            var coordinator = system.ActorOf(setup.Props(observer, done), "coordinator");
            for (int i = 0; i < settings.Workers; i++)
            {
                var ws = new WorkerSettings($"worker-{i}", devices[i], settings.Threads, settings.Cpus is { } cpus ? CpuAffinity.ShareOf(cpus, i, settings.Threads) : null);
                system.ActorOf(WorkerActor.Props(coordinator, ws, _ => train).WithDispatcher(AkkaDefaults.WorkerDispatcher), ws.Name);
            }
            health?.SetReady(true);
            using var stopping = stop?.Token.Register(() => coordinator.Tell(new StopTraining(stop.Reason!)));
            return await setup.ResultOf(done.Task).ConfigureAwait(false);
        }
        finally
        {
            health?.Release(system);
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>The device string of each of <paramref name="workers"/> workers: all cpu, or cuda:i round-robin over the visible GPUs.</summary>
    public static string[] WorkerDevices(string device, int workers)
    {
        if (device == "cpu") return Enumerable.Repeat("cpu", workers).ToArray();
        if (device != "cuda") throw new ArgumentException($"--device must be cpu or cuda (got '{device}').");
        int gpus = cuda.is_available() ? cuda.device_count() : 0;
        if (gpus == 0)
            throw new ArgumentException("--device cuda: no CUDA device is visible (this build may be the CPU one; build with -p:TorchBackend=cuda).");
        return Enumerable.Range(0, workers).Select(i => $"cuda:{i % gpus}").ToArray();
    }
}
