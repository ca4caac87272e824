// The coordinator's master copy of the model: applies a reduced gradient with clipping and the optimizer.
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;
using DistClip.Protocol;
using static TorchSharp.torch;

namespace DistClip.Coordinator;

/// <summary>What one optimizer step did, as reported in logs and metrics.</summary>
/// <param name="GradNorm">Pre-clip global norm of the reduced gradient.</param>
/// <param name="PostClipNorm">The same norm after clipping.</param>
/// <param name="Clip">Everything the clipping policy reported (coefficient, units clipped, threshold).</param>
public sealed record StepOutcome(double GradNorm, double PostClipNorm, ClipOutcome Clip, bool Skipped, double LearningRate)
{
    public double ClipCoefficient => Clip.Coefficient;
    public bool Clipped => Clip.Clipped;
}

/// <summary>
/// Owns the master parameters, the optimizer and the schedule. <see cref="Apply"/> is the heart of a
/// step: load the mean gradient, clip it by the policy (one global norm over all parameters), step.
/// Not thread-safe; the coordinator actor is its only caller.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly FlatParameters _flat;
    private readonly optim.Optimizer _optimizer;
    private readonly optim.lr_scheduler.LRScheduler _schedule;
    private readonly Clipper _clipper;
    private readonly NonFinitePolicy _nonFinite;

    public long Version { get; private set; }
    public ModelSignature Signature => _flat.Signature;
    public long ElementCount => _flat.ElementCount;
    public nn.Module<Tensor, Tensor> Model => _model;

    public MasterWeights(nn.Module<Tensor, Tensor> model, OptimizerSettings optimizer, ScheduleSettings schedule,
        long totalSteps, ClipPolicy clip, NonFinitePolicy nonFinite)
    {
        _model = model;
        _model.train();
        _flat = new FlatParameters(model);
        _optimizer = OptimizerFactory.Create(_flat.Parameters, optimizer);
        _schedule = OptimizerFactory.CreateSchedule(_optimizer, schedule, totalSteps);
        (_clipper, _nonFinite) = (new Clipper(clip, _flat.Names), nonFinite);
    }

    /// <summary>The current parameters, flat in canonical order.</summary>
    public ParameterUpdate Snapshot() => new(Version, _flat.ReadValues());

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
        double postClipNorm = skipped ? clip.PreClipNorm : GradientClipping.TotalNorm(gradients, _clipper.Policy.ReportedNormType).item<float>();
        if (skipped && _nonFinite == NonFinitePolicy.Error) throw new NonFiniteGradientException(step, clip.PreClipNorm);
        if (!skipped)
        {
            _optimizer.step();
            Version++;
        }
        _schedule.step();  // the schedule follows the step count, taken or skipped
        return new StepOutcome(clip.PreClipNorm, postClipNorm, clip, skipped, learningRate);
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}
