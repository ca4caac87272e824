// One full copy of the training state — parameters, optimizer state, moving average — and the step that moves it.
using DistClip.Core;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using static TorchSharp.torch;

namespace DistClip.Training.State;

/// <summary>
/// A replica of the whole training state: the model's parameters (and batch-norm statistics), the optimizer and its
/// schedule, the moving average. <see cref="Step"/> applies a clip decision to the reduced gradient and steps the
/// optimizer: the central exchange's master is one replica, and in the sharded exchange every worker holds one and steps
/// it with the same arithmetic, so all hold the same bits. Not thread-safe.
/// </summary>
public sealed class ModelReplica : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly FlatParameters _flat;
    private readonly TorchSharp.Modules.OptimizerHelper _optimizer;
    private readonly optim.lr_scheduler.LRScheduler _schedule;
    private readonly ClipApplier _clip;
    private readonly ParameterAverage? _average;

    /// <summary>Optimizer steps taken (skipped steps do not count).</summary>
    public long Version { get; private set; }
    public FlatParameters Flat => _flat;
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <summary>
    /// The gradient tensors of the parameters in canonical order, as <see cref="LoadGradient"/> filled them: new handles
    /// each time, for the caller's dispose scope.
    /// </summary>
    public Tensor[] Gradients() => _flat.Parameters.Select(p => p.grad ?? throw new InvalidOperationException("No gradient loaded yet.")).ToArray();

    /// <param name="emaDecay">When set, keeps a <see cref="ParameterAverage"/> of the parameters.</param>
    public ModelReplica(nn.Module<Tensor, Tensor> model, OptimizerSettings optimizer, ScheduleSettings schedule, long totalSteps, ClipPolicy clip, double? emaDecay = null)
    {
        _model = model;
        _model.train();
        _flat = new FlatParameters(model);
        _optimizer = OptimizerFactory.Create(_flat.Parameters, optimizer);
        _schedule = OptimizerFactory.CreateSchedule(_optimizer, schedule, totalSteps);
        _clip = new ClipApplier(clip, _flat.Names);
        _average = emaDecay is { } decay ? new ParameterAverage(_flat, decay) : null;
    }

    /// <summary>The learning rate the next step uses.</summary>
    public double LearningRate => _optimizer.ParamGroups.First().LearningRate;

    /// <summary>Writes the gradient part of the reduced exchange vector (the mean, not yet clipped) into the parameters' gradients.</summary>
    public void LoadGradient(ReadOnlySpan<float> reduced) => _flat.WriteGradients(reduced);

    /// <summary>
    /// Clips the loaded gradient by <paramref name="decision"/>; then, if the norm was finite, takes the averaged batch-norm
    /// statistics from <paramref name="reduced"/> (the exchange vector the gradient came in), one optimizer step and the
    /// average's update. The schedule follows the step count, taken or skipped.
    /// </summary>
    public ClipOutcome Step(ClipDecision decision, ReadOnlySpan<float> reduced)
    {
        using var scope = NewDisposeScope();
        var clip = _clip.Apply(decision, Gradients(), _flat.Parameters);
        if (decision.NormIsFinite)
        {
            _flat.WriteStatistics(reduced);
            _optimizer.step();
            _average?.Update();
            Version++;
        }
        _schedule.step();
        return clip;
    }

    /// <summary>The moving average, flat in canonical order; null without one.</summary>
    public float[]? AverageValues() => _average?.Values();

    /// <summary>
    /// Writes the state into <paramref name="folder"/>: the weights (safetensors with PyTorch names, loadable anywhere),
    /// the moving average (the same names), the optimizer's state (momentum buffers, Adam moments and step counts;
    /// TorchSharp's format). The schedule's position is the step count, which the caller keeps beside these files.
    /// </summary>
    public void WriteState(string folder)
    {
        Safetensors.Save(_model, Path.Combine(folder, StateFiles.Weights));
        _average?.Write(Path.Combine(folder, StateFiles.Average));
        _optimizer.save_state_dict(Path.Combine(folder, StateFiles.Optimizer));
    }

    /// <summary>Restores what <see cref="WriteState"/> wrote after <paramref name="steps"/> steps (<paramref name="version"/> of them taken).</summary>
    public void ReadState(string folder, long steps, long version)
    {
        Safetensors.Load(_model, Path.Combine(folder, StateFiles.Weights));
        _average?.Read(Path.Combine(folder, StateFiles.Average));
        // The schedule forms each learning rate from the previous one: replay it from the start, then load the optimizer's
        // state (which holds the learning rate of the step reached, and the moments).
        for (long s = 0; s < steps; s++) _schedule.step();
        _optimizer.load_state_dict(Path.Combine(folder, StateFiles.Optimizer));
        Version = version;
    }

    public void Dispose()
    {
        _average?.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }
}
