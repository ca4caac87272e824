// Every setting of a training run, with its default and the checks that run before anything starts.
using DistClip.Coordinator;
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;

namespace DistClip.Hosting;

/// <summary>A whole training run's configuration; the CLI fills it, <see cref="EmbeddedTrainer"/> runs it.</summary>
public sealed record TrainingSettings
{
    public string Model { get; init; } = "lenet";            // model name in the zoo
    public int Hidden { get; init; } = 256;                  // hidden width of mlp
    public string Dataset { get; init; } = "fashion-mnist";  // fashion-mnist | mnist | synthetic
    public string? DataDir { get; init; }                    // overrides the data set's default folder
    public int? TrainSamples { get; init; }                  // use only the first N training samples
    public int Workers { get; init; } = 2;                   // worker actors (one device each)
    public string Device { get; init; } = "cpu";             // cpu | cuda (workers spread over visible GPUs)
    public int Threads { get; init; } = 1;                   // intra-op threads per worker
    public IReadOnlyList<int>? Cpus { get; init; }           // CPUs the workers are pinned to (Threads per worker), or none
    public int GlobalBatch { get; init; } = 32;              // samples per optimizer step, over all workers
    public int MicroBatch { get; init; } = 256;              // largest forward/backward pass on one worker
    public long? Steps { get; init; }                        // run this many steps (overrides Epochs)
    public int Epochs { get; init; } = 1;                    // or this many passes over the training split
    public int Seed { get; init; } = 1;                      // initial weights, shuffling, synthetic data
    public bool Shuffle { get; init; } = true;               // a seeded permutation per epoch (same for any N)
    public ClipPolicy Clip { get; init; } = ClipPolicy.None; // gradient clipping of the reduced gradient
    public NonFinitePolicy NonFinite { get; init; } = NonFinitePolicy.Skip;
    public OptimizerSettings Optimizer { get; init; } = new();  // SGD, lr 0.04, momentum 0.9 (OptimizerSettings holds the defaults)
    public ScheduleSettings Schedule { get; init; } = new();    // cosine (ScheduleSettings holds the defaults)
    public string? InitFrom { get; init; }                   // safetensors to start from
    public string? SaveTo { get; init; }                     // safetensors to write at the end
    public string? MetricsPath { get; init; }                // one JSON object per step
    public string? RunDir { get; init; }                     // folder for config, metrics, weights, TensorBoard, summary
    public int LogEvery { get; init; } = 100;                // steps between progress lines
    public bool Evaluate { get; init; } = true;              // test-split accuracy at the end
    public double? EmaDecay { get; init; }                   // keep an exponential moving average of the weights
    public Core.Augmentation Augmentation { get; init; } = Core.Augmentation.None;  // training-time image augmentation

    /// <summary>Optimizer steps of the run: <c>--steps</c>, else epochs × steps per epoch.</summary>
    public long TotalSteps(int stepsPerEpoch) => Steps ?? (long)Epochs * stepsPerEpoch;

    /// <summary>Rejects settings no run could use, naming the option and what would be valid.</summary>
    public TrainingSettings Validate()
    {
        Require(Workers >= 1, $"--workers must be at least 1 (got {Workers}).");
        Require(Threads >= 1, $"--threads must be at least 1 (got {Threads}).");
        if (Cpus is not null) Worker.CpuAffinity.Validate(Cpus, Workers, Threads);
        Require(GlobalBatch >= 1, $"--global-batch must be at least 1 (got {GlobalBatch}).");
        Require(MicroBatch >= 1, $"--micro-batch must be at least 1 (got {MicroBatch}).");
        Require(Steps is null or >= 1, $"--steps must be at least 1 (got {Steps}).");
        Require(Epochs >= 1, $"--epochs must be at least 1 (got {Epochs}).");
        Require(Hidden >= 1, $"--hidden must be at least 1 (got {Hidden}).");
        Require(LogEvery >= 1, $"--log-every must be at least 1 (got {LogEvery}).");
        Require(TrainSamples is null or >= 1, $"--train-samples must be at least 1 (got {TrainSamples}).");
        Require(Device is "cpu" or "cuda", $"--device must be cpu or cuda (got '{Device}').");
        // The optimizer's and the schedule's own values are checked by their records; what spans two values is checked here.
        Require(!(Optimizer.Nesterov && Optimizer.Momentum <= 0), "--nesterov needs --momentum > 0.");
        Require(Models.Zoo.ModelZoo.Names.Contains(Model), $"--model '{Model}' is not known; known models: {string.Join(", ", Models.Zoo.ModelZoo.Names)}.");
        Require(Models.Data.DatasetCatalog.Names.Contains(Dataset), $"--dataset '{Dataset}' is not known; known data sets: {string.Join(", ", Models.Data.DatasetCatalog.Names)}.");
        switch (Clip)
        {
            case ClipPolicy.GlobalNorm n: Require(n.MaxNorm > 0 && double.IsFinite(n.MaxNorm), $"--clip-norm must be a positive number (got {n.MaxNorm})."); break;
            case ClipPolicy.Value v: Require(v.Limit > 0 && double.IsFinite(v.Limit), $"--clip-value must be a positive number (got {v.Limit})."); break;
        }
        Require(InitFrom is null || File.Exists(InitFrom), $"--init-from: file not found: {InitFrom}");
        Require(EmaDecay is null or (>= 0 and < 1), $"--ema must be in [0, 1) (got {EmaDecay}).");
        return this;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
