// Batch normalisation over (N, C, H, W) as TorchSharp's BatchNorm2d, with its batch counter's increment held alive.
using DistClip.Core;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// TorchSharp's <c>nn.BatchNorm2d(features)</c> — the same parameters and buffers (<c>weight</c>,
/// <c>bias</c>, <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>), ε = 1e-5, momentum
/// 0.1, the same forward pass — except that the training pass increments <c>num_batches_tracked</c> with a
/// held Scalar: TorchSharp's own <c>num_batches_tracked.add_(1)</c> hands libtorch a temporary that a
/// collection on another thread can free mid-call (see <see cref="HeldScalars"/>).
/// </summary>
public sealed class BatchNorm2d(long features) : TorchSharp.Modules.BatchNorm(features, 1e-5, 0.1, true, true, null, null, nameof(BatchNorm2d))
{
    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.dim() != 4) throw new ArgumentException($"BatchNorm2d expects a (N, C, H, W) input; got {input.dim()} dimensions.", nameof(input));
    }

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        if (training && num_batches_tracked is not null)
        {
            using var one = new HeldScalars();
            num_batches_tracked.add_(one.One, one.One);
        }
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum!.Value, eps);
    }
}
