// Every setting of a training run, with its default and the checks that run before anything starts.
using DistClip.Coordinator;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;

namespace DistClip.Hosting;

/// <summary>A whole training run's configuration; the CLI fills it, <see cref="EmbeddedTrainer"/> runs it.</summary>
public sealed record TrainingSettings
{
    // model name in the zoo
    public string Model { get; init => field = KnownModel(value); } = "lenet";
    // hidden width of mlp
    public int Hidden { get; init => field = AtLeastOne(value, "--hidden"); } = 256;
    // a data set of DatasetCatalog.Names
    public string Dataset { get; init => field = KnownDataset(value); } = "fashion-mnist";
    // overrides the data set's default folder
    public string? DataDir { get; init; }
    // use only the first N training samples
    public int? TrainSamples { get; init => field = value is null ? null : AtLeastOne(value.Value, "--train-samples"); }
    // worker actors (one device each)
    public int Workers { get; init => field = AtLeastOne(value, "--workers"); } = 2;
    // cpu | cuda (workers spread over visible GPUs)
    public string Device { get; init => field = KnownDevice(value); } = "cpu";
    // intra-op threads per worker
    public int Threads { get; init => field = AtLeastOne(value, "--threads"); } = 1;

    /// <summary>DistClip's and Akka's log level (<see cref="LogLevels"/>).</summary>
    public string LogLevel { get; init => field = LogLevels.Resolve(value); } = LogLevels.Default;
    // how gradients travel: through the coordinator, or reduced range by range peer to peer (the same bits either way)
    public ExchangeMode Exchange { get; init; } = ExchangeMode.Central;
    // shards of every global batch, fixed for the run (default: the workers the coordinator waits for)
    public int? Shards { get; init => field = value is null ? null : AtLeastOne(value.Value, "--shards"); }
    // CPUs the workers are pinned to (Threads per worker), or none
    public IReadOnlyList<int>? Cpus { get; init; }
    // samples per optimizer step, over all workers
    public int GlobalBatch { get; init => field = AtLeastOne(value, "--global-batch"); } = 32;
    // largest forward/backward pass on one worker
    public int MicroBatch { get; init => field = AtLeastOne(value, "--micro-batch"); } = 256;
    // run this many steps (overrides Epochs)
    public long? Steps { get; init => field = value is null or >= 1 ? value : throw new ArgumentException($"--steps must be at least 1 (got {value})."); }
    // or this many passes over the training split
    public int Epochs { get; init => field = AtLeastOne(value, "--epochs"); } = 1;
    // initial weights, shuffling, synthetic data
    public int Seed { get; init; } = 1;
    // a seeded permutation per epoch (same for any N)
    public bool Shuffle { get; init; } = true;
    // gradient clipping of the reduced gradient
    public ClipPolicy Clip { get; init => field = Usable(value); } = ClipPolicy.None;
    // a step whose gradient is not finite: skipped (the default) or the end of the run
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Skip;
    // SGD, lr 0.04, momentum 0.9 (OptimizerSettings holds the defaults)
    public OptimizerSettings Optimizer { get; init; } = new();
    // cosine (ScheduleSettings holds the defaults)
    public ScheduleSettings Schedule { get; init; } = new();
    // safetensors to start from
    public string? InitFrom { get; init; }
    // safetensors to write at the end
    public string? SaveTo { get; init; }
    // one JSON object per step
    public string? MetricsPath { get; init; }
    // folder for config, metrics, weights, TensorBoard, summary
    public string? RunDir { get; init; }
    // steps between progress lines
    public int LogEvery { get; init => field = AtLeastOne(value, "--log-every"); } = 100;
    // a worker whose shard results were not finite where another's were this many times is removed
    public int MaxBadShards { get; init => field = AtLeastOne(value, "--max-bad-shards"); } = 3;
    // the sharded exchange compares the replicas after every this many steps (0: never)
    public int ReplicaCheckEvery { get; init => field = value >= 0 ? value : throw new ArgumentException($"--replica-check-every must not be negative (got {value})."); } = 50;

    /// <summary>Admit workers whose compute differs from the cluster's (threads, CPU kernels, devices), with a warning, instead of refusing them.</summary>
    public bool AllowMixedCompute { get; init; }
    // folder of the run's checkpoints (default: checkpoints/ in RunDir; without either, none are written)
    public string? CheckpointDir { get; init; }
    // steps between checkpoints (one is also written when the run ends, early or not)
    public int CheckpointEvery { get; init => field = AtLeastOne(value, "--checkpoint-every"); } = 500;
    // checkpoints kept: the newest ones
    public int KeepCheckpoints { get; init => field = AtLeastOne(value, "--keep-checkpoints"); } = 3;
    // a checkpoint to resume from, a folder of them (the newest valid one), or "auto" (the checkpoint folder's newest, if any)
    public string? Resume { get; init; }
    // test-split accuracy at the end
    public bool Evaluate { get; init; } = true;
    // perturbations the test evaluation also runs (--eval-robustness gauss:0.1,fgsm:0.03): accuracy and output change under each
    public IReadOnlyList<Models.Robustness.Perturbation> EvalRobustness { get; init; } = [];
    // keep an exponential moving average of the weights
    public double? EmaDecay { get; init => field = value is null or (>= 0 and < 1) ? value : throw new ArgumentException($"--ema must be in [0, 1) (got {value})."); }
    // training-time image augmentation
    public Core.Augmentation Augmentation { get; init; } = Core.Augmentation.None;

    /// <summary>Where checkpoints are written: <see cref="CheckpointDir"/>, else checkpoints/ in <see cref="RunDir"/>, else nowhere.</summary>
    public string? CheckpointFolder => CheckpointFolderOf(CheckpointDir, RunDir);

    /// <summary>The checkpoint folder of a run given <c>--checkpoint-dir</c> and <c>--run-dir</c> (either may be missing).</summary>
    public static string? CheckpointFolderOf(string? checkpointDir, string? runDir) =>
        checkpointDir ?? (runDir is null ? null : Path.Combine(runDir, "checkpoints"));

    /// <summary>Optimizer steps of the run: <c>--steps</c>, else epochs × steps per epoch.</summary>
    public long TotalSteps(int stepsPerEpoch) => Steps ?? (long)Epochs * stepsPerEpoch;

    /// <summary>
    /// Rejects what spans several values or depends on the machine (each value on its own is checked where it is
    /// set, by the constructor and by <c>with</c> alike), naming the option and what would be valid.
    /// </summary>
    public TrainingSettings Validate()
    {
        if (Cpus is not null) Worker.CpuAffinity.Validate(Cpus, Workers, Threads);
        if (EvalRobustness.Count > 0 && !Evaluate)
            throw new ArgumentException("--eval-robustness runs with the test evaluation at the end of the run; drop --no-eval or --eval-robustness.");
        Require(!(Optimizer.Nesterov && Optimizer.Momentum <= 0), "--nesterov needs --momentum > 0.");
        Require(InitFrom is null || File.Exists(InitFrom), $"--init-from: file not found: {InitFrom}");
        Require(Resume is null or "auto" || Directory.Exists(Resume), $"--resume: no such checkpoint or folder: {Resume}");
        return this;
    }

    private static int AtLeastOne(int value, string option) =>
        value >= 1 ? value : throw new ArgumentException($"{option} must be at least 1 (got {value}).");

    private static string KnownDevice(string device) =>
        device is "cpu" or "cuda" ? device : throw new ArgumentException($"--device must be cpu or cuda (got '{device}').");

    private static string KnownModel(string model) => Models.Zoo.ModelZoo.Names.Contains(model) ? model
        : throw new ArgumentException($"--model '{model}' is not known; known models: {string.Join(", ", Models.Zoo.ModelZoo.Names)}.");

    private static string KnownDataset(string dataset) => Models.Data.DatasetCatalog.Names.Contains(dataset) ? dataset
        : throw new ArgumentException($"--dataset '{dataset}' is not known; known data sets: {string.Join(", ", Models.Data.DatasetCatalog.Names)}.");

    private static ClipPolicy Usable(ClipPolicy clip)
    {
        switch (clip)
        {
            case ClipPolicy.GlobalNorm n: Require(n.MaxNorm > 0 && double.IsFinite(n.MaxNorm), $"--clip-norm must be a positive number (got {n.MaxNorm})."); break;
            case ClipPolicy.Value v: Require(v.Limit > 0 && double.IsFinite(v.Limit), $"--clip-value must be a positive number (got {v.Limit})."); break;
        }
        return clip;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
