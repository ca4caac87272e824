// The central exchange's master: one replica of the training state, and the clip decisions over it.
using DistClip.Core;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Training.State;
using static TorchSharp.torch;

namespace DistClip.Coordinator;

/// <summary>
/// The coordinator's master copy of the model in the central exchange: a <see cref="ModelReplica"/> (parameters,
/// optimizer, moving average) and the <see cref="ClipDecider"/>. <see cref="Apply"/> is the heart of a step: load the
/// mean gradient, measure its per-tensor norms, decide (one global norm over all parameters), clip and step — the three
/// clipping steps the sharded exchange does apart, done here in one place. Not thread-safe; the coordinator actor is its
/// only caller.
/// </summary>
public sealed class MasterWeights : IDisposable
{
    private readonly ModelReplica _replica;
    private readonly ClipDecider _decider;
    private readonly NonFinitePolicy _nonFinite;

    public long Version => _replica.Version;
    public ModelSignature Signature => _replica.Flat.Signature;
    public long ElementCount => _replica.Flat.ElementCount;

    /// <summary>Length of the vectors workers and coordinator exchange (parameters, then batch-norm statistics).</summary>
    public long ExchangeLength => _replica.Flat.ExchangeLength;
    public nn.Module<Tensor, Tensor> Model => _replica.Model;

    /// <param name="emaDecay">When set, keeps ema ← decay·ema + (1 − decay)·θ after every optimizer step.</param>
    public MasterWeights(nn.Module<Tensor, Tensor> model, OptimizerSettings optimizer, ScheduleSettings schedule,
        long totalSteps, ClipPolicy clip, NonFinitePolicy nonFinite, double? emaDecay = null)
    {
        _replica = new ModelReplica(model, optimizer, schedule, totalSteps, clip, emaDecay);
        (_decider, _nonFinite) = (new ClipDecider(clip), nonFinite);
    }

    /// <summary>The current parameters, flat in canonical order.</summary>
    public Protocol.ParameterUpdate Snapshot() => new(Version, _replica.Flat.ReadValues());

    /// <summary>Copies the current parameters, flat in canonical order, into <paramref name="destination"/>.</summary>
    public void CopyValuesTo(Span<float> destination) => _replica.Flat.ReadValues(destination);

    /// <summary>
    /// Applies the weighted-mean gradient of step <paramref name="step"/>: clip (the norm is over all
    /// parameters of the reduced gradient), then one optimizer and one scheduler step. A non-finite norm
    /// skips the optimizer step (weights untouched) or throws, by policy.
    /// </summary>
    public StepOutcome Apply(long step, ReadOnlySpan<float> meanGradient) => Step(Decide(step, meanGradient), meanGradient);

    /// <summary>
    /// The first two clipping steps on the master: loads the mean gradient of step <paramref name="step"/>, measures its
    /// per-tensor norms and decides. <see cref="Step"/> applies the decision (the sharded exchange tells the workers the
    /// decision in between). Throws <see cref="NonFiniteGradientException"/> for a non-finite norm under the error policy.
    /// </summary>
    public ClipDecision Decide(long step, ReadOnlySpan<float> meanGradient)
    {
        using var scope = NewDisposeScope();
        _replica.LoadGradient(meanGradient);
        var decision = _decider.Decide(ClipMeasure.TensorNorms(_replica.Gradients(), _decider.NormType));
        if (!decision.NormIsFinite && _nonFinite == NonFinitePolicy.Error) throw new NonFiniteGradientException(step, decision.PreClipNorm);
        return decision;
    }

    /// <summary>Applies <paramref name="decision"/> (of <see cref="Decide"/>, over the same gradient) and steps: the third clipping step, the optimizer, the schedule.</summary>
    public StepOutcome Step(ClipDecision decision, ReadOnlySpan<float> meanGradient)
    {
        using var scope = NewDisposeScope();
        double learningRate = _replica.LearningRate;
        var clip = _replica.Step(decision, meanGradient);
        bool skipped = !decision.NormIsFinite;
        double postClipNorm = skipped ? clip.PreClipNorm : ClipMeasure.GlobalNorm(_replica.Gradients(), _decider.NormType);
        return new StepOutcome(clip.PreClipNorm, postClipNorm, clip, skipped, learningRate);
    }

    /// <summary>AutoClip's norms so far (empty for every other policy).</summary>
    public IReadOnlyList<double> ClipHistory => _decider.History.Norms;

    /// <summary>Writes the replica's whole state into <paramref name="folder"/> (<see cref="ModelReplica.WriteState"/>); the clip history is <see cref="ClipHistory"/>, which the caller keeps beside it.</summary>
    public void WriteState(string folder) => _replica.WriteState(folder);

    /// <summary>Restores what <see cref="WriteState"/> wrote after <paramref name="steps"/> steps (<paramref name="version"/> of them taken), and the clip history.</summary>
    public void ReadState(string folder, long steps, long version, IEnumerable<double> clipHistory)
    {
        _replica.ReadState(folder, steps, version);
        _decider.History.Restore(clipHistory);
    }

    /// <summary>The replica's whole state as one byte string (<see cref="Training.State.StateBundle"/>): what a sharded exchange's worker loads.</summary>
    public byte[] StateBundle() => Training.State.StateBundle.Of(_replica);

    /// <summary>The hash of the replica's state (<see cref="ReplicaHash"/>), which every worker's must match in the sharded exchange.</summary>
    public ReplicaHash Hash() => ReplicaHash.Of(_replica);

    /// <summary>The moving average of the parameters, flat in canonical order; null without <c>emaDecay</c>.</summary>
    public float[]? AverageValues() => _replica.AverageValues();

    public void Dispose() => _replica.Dispose();
}
