// The three clipping steps done in one place: what the central exchange and a single process do.
using static TorchSharp.torch;

namespace DistClip.Training.Clipping;

/// <summary>
/// Measure, decide, apply — in one process (the central exchange's master, the reference loops). The sharded exchange
/// runs the same three steps apart: workers measure their tensors, the coordinator decides, every replica applies.
/// One implementation of each step, so both exchanges compute the same bits.
/// </summary>
public sealed class Clipper(ClipPolicy policy, IReadOnlyList<string> parameterNames)
{
    private readonly ClipDecider _decider = new(policy);
    private readonly ClipApplier _applier = new(policy, parameterNames);

    public ClipPolicy Policy => _decider.Policy;

    /// <summary>What the policy remembers between steps: AutoClip's norms (empty for every other policy).</summary>
    public AutoClipHistory History => _decider.History;

    /// <summary>Clips <paramref name="gradients"/> in place (weights are read by AGC only) and reports.</summary>
    public ClipOutcome Apply(IReadOnlyList<Tensor> gradients, IReadOnlyList<Tensor> weights) =>
        _applier.Apply(_decider.Decide(ClipMeasure.TensorNorms(gradients, _decider.NormType)), gradients, weights);
}
