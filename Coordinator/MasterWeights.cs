// The coordinator's master copy of the model: applies a reduced gradient with clipping and the optimizer.
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Protocol;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Coordinator;

/// <summary>
/// Owns the master parameters, the optimizer and the schedule. <see cref="Apply"/> is the heart of a
/// step: load the mean gradient, clip it by the policy (one global norm over all parameters), step.
/// Not thread-safe; the coordinator actor is its only caller.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly FlatParameters _flat;
    private readonly TorchSharp.Modules.OptimizerHelper _optimizer;
    private readonly optim.lr_scheduler.LRScheduler _schedule;
    private readonly Clipper _clipper;
    private readonly double? _emaDecay;
    private readonly Tensor[]? _ema;   // exponential moving average of the parameters, canonical order
    private readonly NonFinitePolicy _nonFinite;

    public long Version { get; private set; }
    public ModelSignature Signature => _flat.Signature;
    public long ElementCount => _flat.ElementCount;

    /// <summary>Length of the vectors workers and coordinator exchange (parameters, then batch-norm statistics).</summary>
    public long ExchangeLength => _flat.ExchangeLength;
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <param name="emaDecay">When set, keeps ema ← decay·ema + (1 − decay)·θ after every optimizer step.</param>
    public MasterWeights(nn.Module<Tensor, Tensor> model, OptimizerSettings optimizer, ScheduleSettings schedule,
        long totalSteps, ClipPolicy clip, NonFinitePolicy nonFinite, double? emaDecay = null)
    {
        if (emaDecay is not (null or (>= 0 and < 1))) throw new ArgumentOutOfRangeException(nameof(emaDecay), emaDecay, "must be in [0, 1)");
        _model = model;
        _model.train();
        _flat = new FlatParameters(model);
        _optimizer = OptimizerFactory.Create(_flat.Parameters, optimizer);
        _schedule = OptimizerFactory.CreateSchedule(_optimizer, schedule, totalSteps);
        (_clipper, _nonFinite, _emaDecay) = (new Clipper(clip, _flat.Names), nonFinite, emaDecay);
        if (emaDecay is not null)
        {
            using var noGrad = no_grad();
            _ema = _flat.Parameters.Select(p => { var copy = p.detach().clone(); copy.DetachFromDisposeScope(); return copy; }).ToArray();
        }
    }

    /// <summary>The current parameters, flat in canonical order.</summary>
    public ParameterUpdate Snapshot() => new(Version, _flat.ReadValues());

    /// <summary>Copies the current parameters, flat in canonical order, into <paramref name="destination"/>.</summary>
    public void CopyValuesTo(Span<float> destination) => _flat.ReadValues(destination);

    /// <summary>
    /// Applies the weighted-mean gradient of step <paramref name="step"/>: clip (the norm is over all
    /// parameters of the reduced gradient), then one optimizer and one scheduler step. A non-finite norm
    /// skips the optimizer step (weights untouched) or throws, by policy.
    /// </summary>
    public StepOutcome Apply(long step, ReadOnlySpan<float> meanGradient)
    {
        using var scope = NewDisposeScope();
        double learningRate = _optimizer.ParamGroups.First().LearningRate;
        _flat.WriteGradients(meanGradient);
        var gradients = _flat.Parameters.Select(p => p.grad!).ToArray();
        var clip = _clipper.Apply(gradients, _flat.Parameters);
        bool skipped = !clip.NormIsFinite;
        double postClipNorm = skipped ? clip.PreClipNorm : ClipMeasure.GlobalNorm(gradients, _clipper.Policy.ReportedNormType);
        if (skipped && _nonFinite == NonFinitePolicy.Error) throw new NonFiniteGradientException(step, clip.PreClipNorm);
        if (!skipped)
        {
            _flat.WriteStatistics(meanGradient);  // the workers' running statistics, averaged by sample count
            _optimizer.step();
            UpdateAverage();
            Version++;
        }
        _schedule.step();  // the schedule follows the step count, taken or skipped
        return new StepOutcome(clip.PreClipNorm, postClipNorm, clip, skipped, learningRate);
    }

    /// <summary>AutoClip's norms so far (empty for every other policy).</summary>
    public IReadOnlyList<double> ClipHistory => _clipper.History.Norms;

    /// <summary>
    /// Writes the whole training state this object holds into <paramref name="folder"/>: the weights (safetensors with
    /// PyTorch names, loadable anywhere), the moving average (the same names), the optimizer's state (momentum
    /// buffers, Adam moments and step counts; TorchSharp's format). The schedule's position is the step count and the
    /// clip history is <see cref="ClipHistory"/>: the caller keeps both beside these files.
    /// </summary>
    public void WriteState(string folder)
    {
        Safetensors.Save(_model, Path.Combine(folder, StateFiles.Weights));
        if (_ema is not null) Safetensors.Write(_flat.Names.Zip(_ema), Path.Combine(folder, StateFiles.Average));
        _optimizer.save_state_dict(Path.Combine(folder, StateFiles.Optimizer));
    }

    /// <summary>
    /// Restores what <see cref="WriteState"/> wrote after <paramref name="steps"/> steps (<paramref name="version"/>
    /// of them taken): weights, moving average, optimizer state, the schedule replayed to its position, the clip history.
    /// </summary>
    public void ReadState(string folder, long steps, long version, IEnumerable<double> clipHistory)
    {
        Safetensors.Load(_model, Path.Combine(folder, StateFiles.Weights));
        if (_ema is not null)
        {
            var average = Safetensors.Read(Path.Combine(folder, StateFiles.Average));
            using var noGrad = no_grad();
            for (int i = 0; i < _ema.Length; i++)
            {
                if (!average.TryGetValue(_flat.Names[i], out var entry) || !entry.Shape.SequenceEqual(_ema[i].shape))
                    throw new InvalidDataException($"{StateFiles.Average}: tensor '{_flat.Names[i]}' is missing or has another shape.");
                using var source = tensor(entry.Values, entry.Shape);
                _ema[i].copy_(source);
            }
        }
        // The schedule forms each learning rate from the previous one: replay it from the start, then load the optimizer's
        // state (which holds the learning rate of the step reached, and the moments).
        for (long s = 0; s < steps; s++) _schedule.step();
        _optimizer.load_state_dict(Path.Combine(folder, StateFiles.Optimizer));
        _clipper.History.Restore(clipHistory);
        Version = version;
    }

    /// <summary>The moving average of the parameters, flat in canonical order; null without <c>emaDecay</c>.</summary>
    public float[]? AverageValues()
    {
        if (_ema is null) return null;
        var flat = _flat.ReadValues();  // the buffers as they are; the parameters replaced below
        for (int i = 0; i < _ema.Length; i++)
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_ema[i].bytes).CopyTo(flat.AsSpan((int)_flat.OffsetOf(i)));
        return flat;
    }

    private void UpdateAverage()
    {
        if (_ema is null) return;
        using var noGrad = no_grad();
        using var s = new HeldScalars();
        for (int i = 0; i < _ema.Length; i++) _ema[i].mul_(s[_emaDecay!.Value]).add_(_flat.Parameters[i], s[1 - _emaDecay.Value]);
    }

    public void Dispose()
    {
        if (_ema is not null) foreach (var t in _ema) t.Dispose();
        _optimizer.Dispose();
        _model.Dispose();
    }
}
