// TorchSharp's Adam, its step computed with Scalars that live through every native call.
using TorchSharp.Modules;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Optimization;

/// <summary>
/// <see cref="TorchSharp.Modules.Adam"/> with L2 weight decay (no AMSGrad, no maximize: DistClip offers
/// neither) and the same step, operation for operation, as TorchSharp 0.107's, but every number passed to
/// libtorch held by <see cref="HeldScalars"/> (see <see cref="Sgd"/> for why).
/// </summary>
public sealed class Adam(IEnumerable<Parameter> parameters, double lr, double weightDecay)
    : TorchSharp.Modules.Adam(parameters, lr, weight_decay: weightDecay)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        double weightDecay = o.weight_decay!.Value;
        using var s = new HeldScalars();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            if (weightDecay != 0) grad = grad.add(param, s[weightDecay]);
            AdamMoments.Step(param, state.exp_avg, state.exp_avg_sq, grad, grad.conj(), state.step, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.LearningRate!.Value, s);
        }
    }, closure);
}
