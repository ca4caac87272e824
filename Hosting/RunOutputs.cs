// One training run's outputs: the start banner, the run directory, the observers, and the end (weights, evaluation, summary).
using System.Globalization;
using System.Text.Json;
using DistClip.Coordinator.Steps;
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Core;

namespace DistClip.Hosting;

/// <summary>
/// Everything around the trainer: checks that every output can be written before the first step, prints
/// the resolved configuration and derived quantities, lays out the run directory (<c>config.yaml</c>,
/// <c>metrics.jsonl</c>, <c>weights.safetensors</c>, <c>tensorboard/</c>, <c>summary.json</c>) when
/// <see cref="TrainingSettings.RunDir"/> is set, and at the end saves weights, evaluates on the test split
/// and reports. A run that ends early (a signal, a write that failed, a coordinator that stopped) saves
/// the weights of its last completed step and ends with one line (<see cref="RunEndedEarlyException"/>).
/// </summary>
public sealed class RunOutputs : IDisposable
{
    private readonly ProgressLog _progress;
    private readonly LiveProgress? _live;
    private readonly TensorBoardLog? _tensorBoard;
    private readonly TextWriter _output;
    private readonly long _totalSteps;
    private readonly Checkpoints.RunCheckpoints? _checkpoints;
    private readonly string? _compute;

    public TrainingSettings Settings { get; }
    public Coordinator.ITrainingObserver Observer { get; }

    /// <summary>Ends the run at its last completed step when requested (signals, failed writes).</summary>
    public StopRequest Stop { get; }

    private RunOutputs(TrainingSettings settings, long totalSteps, long firstStep, TextWriter output, StopRequest stop, Checkpoints.RunCheckpoints? checkpoints, string? compute)
    {
        (Settings, _output, _totalSteps, Stop, _checkpoints, _compute) = (settings, output, totalSteps, stop, checkpoints, compute);
        // A terminal gets a live display; CI logs and containers get plain lines.
        _live = output == Console.Out && LiveProgress.Available ? new LiveProgress(totalSteps) : null;
        _progress = new ProgressLog(_live is null ? output : null, settings.LogEvery, totalSteps, settings.MetricsPath, firstStep);
        _tensorBoard = settings.RunDir is null ? null : new TensorBoardLog(Path.Combine(settings.RunDir, "tensorboard"));
        Observer = new Observers(stop, new Coordinator.ITrainingObserver?[] { _progress, _live, _tensorBoard }.OfType<Coordinator.ITrainingObserver>().ToArray());
    }

    /// <summary>Lays out the run folder and prints the banner: the resolved configuration and the derived quantities.</summary>
    /// <param name="resolvedYaml">The run's configuration as a config file would give it.</param>
    /// <param name="setup">The coordinator's setup, built once (its model gives the parameter count, its batch order the steps).</param>
    /// <param name="stop">The run's stop request (listening to signals, for a command); a new one when null.</param>
    public static RunOutputs Start(string command, TrainingSettings settings, string resolvedYaml, IImageDataset train, CoordinatorSetup setup, int workers, TextWriter output, StopRequest? stop = null)
    {
        OutputPaths.Check(settings);
        if (settings.RunDir is { } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "config.yaml"), resolvedYaml);
            settings = settings with
            {
                MetricsPath = settings.MetricsPath ?? Path.Combine(dir, "metrics.jsonl"),
                SaveTo = settings.SaveTo ?? Path.Combine(dir, "weights.safetensors"),
            };
        }
        var batches = setup.Batches;
        long totalSteps = setup.Plan.TotalSteps, parameters = setup.Master.ElementCount;
        int shards = setup.Plan.ShardCount;
        output.WriteLine($"distclip {command}: resolved configuration");
        foreach (var line in resolvedYaml.Split('\n', StringSplitOptions.RemoveEmptyEntries)) output.WriteLine($"  {line}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  derived: {train.Name} ({train.Count} samples); {workers} worker(s), {shards} shards of ~{(settings.GlobalBatch + shards - 1) / shards} samples per step; " +
            $"{batches.StepsPerEpoch} steps/epoch, {totalSteps} steps; {parameters:N0} parameters, {parameters * sizeof(float) / 1e6:F1} MB per gradient or parameter exchange"));
        if (setup.Plan.Fingerprint is { } fingerprint)
            output.WriteLine($"  compute: {fingerprint.Coordinator.Describe()} ({(fingerprint.AllowMixedCompute ? "workers that differ are admitted with a warning" : "every worker must match it")})");
        return new RunOutputs(settings, totalSteps, setup.Plan.Resumed?.Steps ?? 0, output, stop ?? new StopRequest(), setup.Checkpoints, setup.Plan.Fingerprint?.Coordinator.Describe());
    }

    /// <summary>
    /// Awaits the trainer and finishes the run (<see cref="Finish"/>); a coordinator that stopped on its own
    /// account ends the run early, with its weights saved.
    /// </summary>
    /// <exception cref="RunEndedEarlyException">The run ended before its last step.</exception>
    public async Task<(RunReport Summary, TrainingResult Result)> CompleteAsync(Task<TrainingResult> training)
    {
        TrainingResult result;
        try { result = await training.ConfigureAwait(false); }
        catch (TrainingEndedException e)
        {
            throw EndedEarly(e.Partial, e.Message.TrimEnd('.'), e.InnerException is Coordinator.NonFiniteGradientException ? ExitCodes.BadInput : ExitCodes.RunTimeFailure, e);
        }
        return (Finish(result), result);
    }

    /// <summary>Prints the end of the run, saves the weights, evaluates, writes the summary; returns it.</summary>
    /// <exception cref="RunEndedEarlyException">The run was stopped before its last step (its weights are saved).</exception>
    public RunReport Finish(TrainingResult result)
    {
        _live?.Dispose();
        var s = result.Summary;
        // Stopped without a request of this process (a checkpoint that could not be written): a run-time failure.
        if (s.StoppedBecause is { } reason) throw EndedEarly(result, reason, Stop.Reason is null ? ExitCodes.RunTimeFailure : Stop.ExitCode);
        // A stop requested too late to end the run early (an output that failed at the last step): still said.
        if (Stop.Reason is { } late) throw EndedEarly(result, late, Stop.ExitCode);
        double clipRate = (double)s.ClippedSteps / Math.Max(1, s.Steps);
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done: {s.Steps} steps, {s.Samples} samples in {s.Seconds:F1} s ({s.SamplesPerSecond:F0} samples/s); clipped {100 * clipRate:F1}% of steps; skipped {s.SkippedSteps}"));
        if (Settings.SaveTo is not null)
        {
            var path = SaveSomewhere(result);
            if (path != Settings.SaveTo)  // the disk filled up after the check at the start
                throw new RunEndedEarlyException($"saving the weights to {Settings.SaveTo} failed; " +
                    (path is null ? "they could not be saved anywhere." : $"the weights of step {s.Steps} were saved to {path} instead."), ExitCodes.RunTimeFailure);
            _output.WriteLine($"saved weights to {Settings.SaveTo}");
        }
        if (Stop.Reason is { } interrupted)  // a signal while saving: the weights are safe, the evaluation is not wanted
            throw Settings.SaveTo is null ? EndedEarly(result, interrupted, Stop.ExitCode)
                : new RunEndedEarlyException($"{interrupted}; the run had finished: the weights of step {s.Steps} were saved to {Settings.SaveTo}.", Stop.ExitCode);
        EvaluationResult? eval = null;
        IReadOnlyList<Models.Robustness.RobustnessFigure>? robustness = null;
        if (Settings.Evaluate)
        {
            var test = DatasetCatalog.Load(Settings.Dataset, Split.Test, Settings.DataDir, Settings.Seed);
            eval = Evaluation.Evaluate(result.Model, test, augmenter: EvaluationAugmenter());
            _output.WriteLine($"test: {eval.Describe()}");
            _tensorBoard?.OnEvaluation("test", eval, s.Steps);
            if (Settings.EvalRobustness.Count > 0)
            {
                robustness = Models.Robustness.RobustnessEvaluation.Evaluate(result.Model, test, Settings.EvalRobustness, Settings.Seed, augmenter: EvaluationAugmenter());
                foreach (var figure in robustness) _output.WriteLine($"test under {figure.Describe()}");
                _tensorBoard?.OnRobustness("test", robustness, s.Steps);
            }
        }
        if (result.AverageParameters is { } average) EvaluateAverage(result, average);
        var summary = new RunReport(Settings.Clip.ToString()!, s.Steps, s.Samples, s.Seconds, s.SamplesPerSecond, clipRate, s.SkippedSteps, eval?.Loss, eval?.Accuracy, eval?.R2, _compute, robustness);
        if (Settings.RunDir is { } dir)
            File.WriteAllText(Path.Combine(dir, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        return summary;
    }

    /// <summary>
    /// Saves the weights of a run that ends before its last step — where the run would have saved them,
    /// else (not asked for, or that disk is full) in the temporary folder — and says so in one line.
    /// </summary>
    /// <remarks>A run stopped by a signal whose checkpoint of its last step was written exits <see cref="ExitCodes.StoppedResumable"/>.</remarks>
    private RunEndedEarlyException EndedEarly(TrainingResult result, string reason, int exitCode, Exception? cause = null)
    {
        long steps = result.Summary.Steps;
        string where = steps == 0 ? "nothing was trained yet" : SaveSomewhere(result) is { } path
            ? $"the weights of step {steps} were saved to {path}"
            : "the weights could not be saved anywhere";
        if (ExitCodes.IsSignal(exitCode) && steps > 0 && _checkpoints?.NewestStep == steps)
        {
            where += $"; the checkpoint of step {steps} is in {_checkpoints.Folder}: resume with --resume auto";
            exitCode = ExitCodes.StoppedResumable;
        }
        return new RunEndedEarlyException($"{reason}; the run stopped after {steps} of {_totalSteps} steps; {where}.", exitCode, cause);
    }

    private string? SaveSomewhere(TrainingResult result)
    {
        var metadata = new Dictionary<string, string> { ["model"] = Settings.Model, ["steps"] = result.Summary.Steps.ToString(CultureInfo.InvariantCulture) };
        var fallback = Path.Combine(Path.GetTempPath(), $"distclip-{Environment.ProcessId}-step{result.Summary.Steps}.safetensors");
        foreach (var path in new[] { Settings.SaveTo, fallback }.OfType<string>())
        {
            try
            {
                Safetensors.Save(result.Model, path, metadata);
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }  // try the next place
        }
        return null;
    }

    /// <summary>The run's augmentation for evaluation (only its resize and normalisation are used there).</summary>
    private Augmenter? EvaluationAugmenter() =>
        Settings.Augmentation.IsNone ? null : new Augmenter(Settings.Augmentation, Settings.Seed);

    /// <summary>The moving-average weights: saved beside the raw ones (<c>NAME.ema.safetensors</c>) and evaluated.</summary>
    private void EvaluateAverage(TrainingResult result, float[] average)
    {
        using var model = ModelZoo.Create(result.Spec, 0);
        using (var noGrad = TorchSharp.torch.no_grad())
        {
            var buffers = result.Model.state_dict();  // batch-norm statistics come from the raw model
            foreach (var (name, tensor) in model.state_dict()) tensor.copy_(buffers[name]);
        }
        new FlatParameters(model).WriteValues(average);
        if (Settings.SaveTo is not null)
        {
            var path = Path.ChangeExtension(Settings.SaveTo, ".ema.safetensors");
            Safetensors.Save(model, path, new Dictionary<string, string> { ["model"] = Settings.Model, ["ema"] = "true" });
            _output.WriteLine($"saved moving-average weights to {path}");
        }
        if (!Settings.Evaluate) return;
        var eval = Evaluation.Evaluate(model, DatasetCatalog.Load(Settings.Dataset, Split.Test, Settings.DataDir, Settings.Seed), augmenter: EvaluationAugmenter());
        _output.WriteLine($"test (moving average): {eval.Describe()}");
        _tensorBoard?.OnEvaluation("test_ema", eval, result.Summary.Steps);
    }

    public void Dispose()
    {
        _live?.Dispose();
        _progress.Dispose();
    }
}
