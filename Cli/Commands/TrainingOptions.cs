// The command-line options of a training run and their mapping onto TrainingSettings.
using System.CommandLine;
using DistClip.Hosting;
using DistClip.Coordinator;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;

namespace DistClip.Cli.Commands;

/// <summary>Every training option, declared once; shared by <c>train</c> and <c>bench</c>.</summary>
public sealed class TrainingOptions(bool workerOptions)
{
    private static readonly TrainingSettings D = new();  // defaults live in TrainingSettings only

    private readonly Option<string> _model = new("--model") { Description = $"Model: {string.Join(", ", Models.Zoo.ModelZoo.Names)}.", DefaultValueFactory = _ => D.Model };
    private readonly Option<int> _hidden = new("--hidden") { Description = "Hidden width of mlp.", DefaultValueFactory = _ => D.Hidden };
    private readonly Option<string> _dataset = new("--dataset") { Description = $"Data set: {string.Join(", ", Models.Data.DatasetCatalog.Names)} (all but fashion-mnist and the synthetic sets need --data-dir).", DefaultValueFactory = _ => D.Dataset };
    private readonly Option<string?> _dataDir = new("--data-dir") { Description = "Folder with the data set's files (env DISTCLIP_DATA_DIR; default: the Debian package's folder).", DefaultValueFactory = _ => EnvironmentValues.Process.Text(EnvironmentNames.DataDir) };
    private readonly Option<int?> _trainSamples = new("--train-samples") { Description = "Use only the first N training samples." };
    private readonly Option<int> _workers = new("--workers") { Description = "Number of worker actors (one device each).", DefaultValueFactory = _ => D.Workers };
    private readonly Option<string> _exchange = new("--exchange") { Description = "How gradients travel: central (every worker to the coordinator and back: the reference) or sharded (each worker reduces one range and the workers all-gather peer to peer; the coordinator still decides the clip). Both give the same bits.", DefaultValueFactory = _ => D.Exchange.ToString().ToLowerInvariant() };
    private readonly Option<int?> _shards = new("--shards") { Description = "Shards of every global batch, fixed for the whole run: the result depends on it, not on how many workers computed it (default: --workers; for a coordinator --min-workers)." };
    private readonly Option<string> _device = new("--device") { Description = "cpu, or cuda (workers spread over the visible GPUs).", DefaultValueFactory = _ => D.Device };
    private readonly Option<string?> _cpus = new("--cpus") { Description = "Pin the workers to these CPUs, e.g. 0,1: worker i takes the i-th run of --threads CPUs (Linux; default: no pinning)." };
    private readonly Option<int> _threads = new("--threads") { Description = "Intra-op threads per worker, and the coordinator's own; on a cluster every worker must run the coordinator's (env DISTCLIP_THREADS).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.Threads, D.Threads) };
    private readonly Option<int> _globalBatch = new("--global-batch") { Description = "Samples per optimizer step, over all workers.", DefaultValueFactory = _ => D.GlobalBatch };
    private readonly Option<int> _microBatch = new("--micro-batch") { Description = "Largest forward/backward pass on one worker; larger shards accumulate.", DefaultValueFactory = _ => D.MicroBatch };
    private readonly Option<long?> _steps = new("--steps") { Description = "Number of optimizer steps (overrides --epochs)." };
    private readonly Option<int> _epochs = new("--epochs") { Description = "Passes over the training split.", DefaultValueFactory = _ => D.Epochs };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of initial weights, shuffling and synthetic data.", DefaultValueFactory = _ => D.Seed };
    private readonly Option<bool> _noShuffle = new("--no-shuffle") { Description = "Visit samples in file order: global batch b is samples [b*B, (b+1)*B)." };
    private readonly Option<bool> _shuffle = new("--shuffle") { Description = "A seeded permutation per epoch, the same for any number of workers (default)." };
    private readonly Option<string?> _clip = new("--clip") { Description = "Clipping policy spec: none, norm:C[:p], value:V, layer:C[:p], agc:λ[:all], auto:P[:p]." };
    private readonly Option<double?> _clipNorm = new("--clip-norm") { Description = "Clip the global gradient norm to this value (PyTorch clip_grad_norm_)." };
    private readonly Option<string> _clipNormType = new("--clip-norm-type") { Description = "Norm type for --clip-norm: 2, inf, or any p >= 1.", DefaultValueFactory = _ => "2" };
    private readonly Option<double?> _clipValue = new("--clip-value") { Description = "Clamp every gradient element to [-V, V] (PyTorch clip_grad_value_)." };
    private readonly Option<string> _nonFinite = new("--nonfinite") { Description = "Non-finite global norm: skip the step or error.", DefaultValueFactory = _ => D.NonFinite.ToString().ToLowerInvariant() };
    private readonly Option<string> _optimizer = new("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => D.Optimizer.Name };
    private readonly Option<double> _lr = new("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => D.Optimizer.LearningRate };
    private readonly Option<double> _momentum = new("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => D.Optimizer.Momentum };
    private readonly Option<bool> _nesterov = new("--nesterov") { Description = "SGD with Nesterov momentum." };
    private readonly Option<double> _weightDecay = new("--weight-decay") { Description = "Weight decay.", DefaultValueFactory = _ => D.Optimizer.WeightDecay };
    private readonly Option<string> _lrSchedule = new("--lr-schedule") { Description = "constant, step or cosine.", DefaultValueFactory = _ => D.Schedule.Kind };
    private readonly Option<int> _warmup = new("--warmup-steps") { Description = "Linear learning-rate warm-up steps.", DefaultValueFactory = _ => D.Schedule.WarmupSteps };
    private readonly Option<int> _lrStepSize = new("--lr-step-size") { Description = "Steps between decays of the step schedule.", DefaultValueFactory = _ => D.Schedule.StepSize };
    private readonly Option<double> _lrGamma = new("--lr-gamma") { Description = "Decay factor of the step schedule.", DefaultValueFactory = _ => D.Schedule.Gamma };
    private readonly Option<string?> _initFrom = new("--init-from") { Description = "Start from these weights (safetensors, PyTorch state_dict names)." };
    private readonly Option<string?> _save = new("--save") { Description = "Write the trained weights here (safetensors)." };
    private readonly Option<string?> _metrics = new("--metrics") { Description = "Write one JSON object per step to this file." };
    private readonly Option<int> _logEvery = new("--log-every") { Description = "Steps between progress lines.", DefaultValueFactory = _ => D.LogEvery };
    private readonly Option<bool> _noEval = new("--no-eval") { Description = "Skip the test-split evaluation at the end." };
    private readonly Option<string?> _evalRobustness = new("--eval-robustness") { Description = "Also evaluate the trained weights on the test split under these perturbations: gauss:σ, fgsm:ε, pgd:ε:steps (comma-separated; pixel units of [0, 1]); the figures go to the summary, summary.json and TensorBoard." };
    private readonly Option<double?> _ema = new("--ema") { Description = "Keep an exponential moving average of the weights with this decay (e.g. 0.999); it is evaluated and saved beside the raw weights." };
    private readonly Option<string?> _augment = new("--augment") { Description = "Training augmentation: flip, crop:P, resize:S, normalize:m1/m2/m3:s1/s2/s3 (comma-separated); draws depend on seed, epoch and sample only." };
    private readonly Option<string?> _runDir = new("--run-dir") { Description = "Write the run's config.yaml, metrics.jsonl, weights.safetensors, tensorboard/ and summary.json here." };
    private readonly Option<string?> _logLevel = new("--log-level") { Description = $"DistClip's and Akka's log level: {string.Join(", ", LogLevels.Names)} (env {EnvironmentNames.LogLevel}; default {LogLevels.Default})." };
    private readonly Option<int> _replicaCheckEvery = new("--replica-check-every") { Description = "The sharded exchange compares every worker's replica with the coordinator's after every this many steps, and removes a worker whose replica diverged (0: never).", DefaultValueFactory = _ => D.ReplicaCheckEvery };
    private readonly Option<int> _maxBadShards = new("--max-bad-shards") { Description = "Remove a worker after this many shard results that were not finite where another worker's were (each is computed again elsewhere, so the step is exact).", DefaultValueFactory = _ => D.MaxBadShards };
    private readonly Option<string?> _checkpointDir = new("--checkpoint-dir") { Description = "Write checkpoints of the whole training state here (default: checkpoints/ in --run-dir; without either, none)." };
    private readonly Option<int> _checkpointEvery = new("--checkpoint-every") { Description = "Steps between checkpoints; one is also written when the run ends or is stopped (SIGTERM, SIGINT).", DefaultValueFactory = _ => D.CheckpointEvery };
    private readonly Option<int> _keepCheckpoints = new("--keep-checkpoints") { Description = "Checkpoints kept (the newest).", DefaultValueFactory = _ => D.KeepCheckpoints };
    private readonly Option<string?> _resume = new(ResumeFromCheckpoint.OptionName) { Description = "Resume exactly from a checkpoint, or the newest valid one in a folder; auto: from the checkpoint folder's newest if there is one, else start fresh. The run's configuration comes from the checkpoint." };
    private readonly Option<string?> _config = new(ConfigFile.OptionName) { Description = "Read options from this YAML file (keys are option names without dashes); flags override it." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _model, _hidden, _dataset, _dataDir, _trainSamples, _threads, _exchange, _shards, _globalBatch, _microBatch,
                     _steps, _epochs, _seed, _shuffle, _noShuffle, _clip, _clipNorm, _clipNormType, _clipValue, _nonFinite, _optimizer, _lr, _momentum,
                     _nesterov, _weightDecay, _lrSchedule, _warmup, _lrStepSize, _lrGamma, _initFrom, _save, _metrics, _logEvery, _noEval, _evalRobustness, _ema, _augment, _runDir, _logLevel, _maxBadShards, _replicaCheckEvery, _checkpointDir, _checkpointEvery, _keepCheckpoints, _resume, _config })
            command.Options.Add(option);
        // Where the workers live (in this process, or on worker nodes with options of their own).
        if (workerOptions)
        {
            command.Options.Add(_workers);
            command.Options.Add(_device);
            command.Options.Add(_cpus);
        }
    }

    /// <summary>The settings the command line asks for; throws <see cref="ArgumentException"/> naming a bad option.</summary>
    public TrainingSettings Read(ParseResult p)
    {
        if (p.GetValue(_shuffle) && p.GetValue(_noShuffle)) throw new ArgumentException("--shuffle and --no-shuffle contradict each other; give one.");
        var clipSpec = p.GetValue(_clip);
        var clipNorm = p.GetValue(_clipNorm);
        var clipValue = p.GetValue(_clipValue);
        if (new object?[] { clipSpec, clipNorm, clipValue }.Count(x => x is not null) > 1)
            throw new ArgumentException("--clip, --clip-norm and --clip-value are alternatives; give one.");
        ClipPolicy clip = clipSpec is not null ? ForOption("--clip", () => ClipPolicy.Parse(clipSpec))
            : clipNorm is double c ? new ClipPolicy.GlobalNorm(c, ForOption("--clip-norm-type", () => ClipPolicy.ParseNormType(p.GetValue(_clipNormType)!)))
            : clipValue is double v ? new ClipPolicy.Value(v) : ClipPolicy.None;
        return new TrainingSettings
        {
            Model = p.GetValue(_model)!,
            Hidden = p.GetValue(_hidden),
            Dataset = p.GetValue(_dataset)!,
            DataDir = p.GetValue(_dataDir),
            TrainSamples = p.GetValue(_trainSamples),
            Workers = workerOptions ? p.GetValue(_workers) : D.Workers,
            Device = workerOptions ? p.GetValue(_device)! : D.Device,
            Threads = p.GetValue(_threads),
            Shards = p.GetValue(_shards),
            Exchange = p.GetValue(_exchange) switch
            {
                "central" => ExchangeMode.Central,
                "sharded" => ExchangeMode.Sharded,
                var other => throw new ArgumentException($"--exchange must be central or sharded (got '{other}')."),
            },
            Cpus = workerOptions ? Worker.CpuAffinity.Parse(p.GetValue(_cpus)) : null,
            GlobalBatch = p.GetValue(_globalBatch),
            MicroBatch = p.GetValue(_microBatch),
            Steps = p.GetValue(_steps),
            Epochs = p.GetValue(_epochs),
            Seed = p.GetValue(_seed),
            Shuffle = !p.GetValue(_noShuffle),
            Clip = clip,
            NonFinite = p.GetValue(_nonFinite) switch
            {
                "skip" => NonFinitePolicy.Skip,
                "error" => NonFinitePolicy.Error,
                var other => throw new ArgumentException($"--nonfinite must be skip or error (got '{other}')."),
            },
            Optimizer = new OptimizerSettings(p.GetValue(_optimizer)!, p.GetValue(_lr), p.GetValue(_momentum), p.GetValue(_nesterov), p.GetValue(_weightDecay)),
            Schedule = new ScheduleSettings(p.GetValue(_lrSchedule)!, p.GetValue(_warmup), p.GetValue(_lrStepSize), p.GetValue(_lrGamma)),
            InitFrom = p.GetValue(_initFrom),
            SaveTo = p.GetValue(_save),
            MetricsPath = p.GetValue(_metrics),
            RunDir = p.GetValue(_runDir),
            EmaDecay = p.GetValue(_ema),
            Augmentation = p.GetValue(_augment) is { } augment ? ForOption("--augment", () => Core.Augmentation.Parse(augment)) : Core.Augmentation.None,
            LogEvery = p.GetValue(_logEvery),
            MaxBadShards = p.GetValue(_maxBadShards),
            ReplicaCheckEvery = p.GetValue(_replicaCheckEvery),
            LogLevel = LogLevels.Resolve(p.GetValue(_logLevel)),
            CheckpointDir = p.GetValue(_checkpointDir),
            CheckpointEvery = p.GetValue(_checkpointEvery),
            KeepCheckpoints = p.GetValue(_keepCheckpoints),
            Resume = p.GetValue(_resume),
            Evaluate = !p.GetValue(_noEval),
            EvalRobustness = p.GetValue(_evalRobustness) is { } robustness ? RobustnessOption.Parse("--eval-robustness", robustness) : [],
        }.Validate();
    }

    /// <summary>Runs a parser and prefixes its error with the option it parsed.</summary>
    private static T ForOption<T>(string option, Func<T> parse)
    {
        try { return parse(); }
        catch (ArgumentException e) { throw new ArgumentException($"{option}: {e.Message}"); }
    }
}
