// TorchSharp's AdamW, its step computed with Scalars that live through every native call.
using TorchSharp.Modules;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Optimization;

/// <summary>
/// <see cref="TorchSharp.Modules.AdamW"/> with decoupled weight decay (no AMSGrad, no maximize: DistClip
/// offers neither) and the same step, operation for operation, as TorchSharp 0.107's, but every number
/// passed to libtorch held by <see cref="HeldScalars"/> (see <see cref="Sgd"/> for why).
/// </summary>
public sealed class AdamW(IEnumerable<Parameter> parameters, double lr, double weightDecay)
    : TorchSharp.Modules.AdamW(parameters, lr, weight_decay: weightDecay)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        double lr = o.LearningRate!.Value;
        using var s = new HeldScalars();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            param.mul_(s[1 - lr * o.weight_decay!.Value]);
            AdamMoments.Step(param, state.exp_avg, state.exp_avg_sq, grad, grad, state.step, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, lr, s);
        }
    }, closure);
}
