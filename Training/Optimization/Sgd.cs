// TorchSharp's SGD, its step computed with Scalars that live through every native call.
using TorchSharp.Modules;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Training.Optimization;

/// <summary>
/// <see cref="SGD"/> (momentum, dampening, Nesterov, weight decay; no maximize: DistClip does not offer it) with the same step, operation
/// for operation, as TorchSharp 0.107's — so the same bits — but every number passed to libtorch held by
/// <see cref="HeldScalars"/>: TorchSharp's own step passes temporaries that a garbage collection on
/// another thread can free mid-call (docs/DECISIONS.md, "Scalars kept alive"). State, parameter groups,
/// learning-rate schedulers and state dictionaries are SGD's own.
/// </summary>
public sealed class Sgd(IEnumerable<Parameter> parameters, double lr, double momentum, double dampening, double weightDecay, bool nesterov)
    : SGD(parameters, lr, momentum, dampening, weightDecay, nesterov, maximize: false)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = group.Options;
        double momentum = o.momentum!.Value, dampening = o.dampening!.Value, weightDecay = o.weight_decay!.Value, lr = o.LearningRate!.Value;
        using var s = new HeldScalars();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            if (weightDecay != 0) grad = grad.add(param, s[weightDecay]);
            if (momentum != 0)
            {
                var buffer = state.momentum_buffer;
                if (buffer is null) state.momentum_buffer = buffer = grad.clone().detach().DetachFromDisposeScope();
                else buffer.mul_(s[momentum]).add_(grad, s[1 - dampening]);
                grad = o.nesterov!.Value ? grad.add(buffer, s[momentum]) : buffer;
            }
            param.add_(grad, s[-lr]);
        }
    }, closure);
}
