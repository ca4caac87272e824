// Builds models by name, with seeded initialisation so that every replica starts identical.
using DistClip.Core;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>The named models DistClip can train.</summary>
public static class ModelZoo
{
    /// <summary>Model names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "mlp", "lenet", "cnn", "alexnet",
        "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "vgg11_cifar", "vgg11_bn_cifar", "vgg16_cifar", "vgg16_bn_cifar",
        "resnet18", "resnet34", "resnet50", "resnet18_cifar", "resnet34_cifar", "resnet50_cifar", "unet",
    ];

    // torch.manual_seed is process-global: building two models at once from different threads would
    // interleave their random draws.
    private static readonly Lock SeedLock = new();

    /// <summary>
    /// Builds <paramref name="spec"/> with parameters drawn from the global generator seeded with
    /// <paramref name="seed"/> (PyTorch's default initialisers), on the CPU.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(ModelSpec spec, long seed)
    {
        lock (SeedLock)
        {
            manual_seed(seed);
            return spec.Name switch
            {
                "mlp" => new Mlp(spec.Channels * spec.Height * spec.Width, spec.Hidden, spec.Classes),
                "lenet" => new LeNet(spec.Channels, spec.Height, spec.Width, spec.Classes),
                "cnn" => new MnistCnn(spec.Channels, spec.Height, spec.Width, spec.Classes),
                "alexnet" => new AlexNet(spec.Channels, spec.Classes),
                "unet" => new UNet(spec.Channels, spec.Classes),
                var vgg when vgg.StartsWith("vgg", StringComparison.Ordinal) && Names.Contains(vgg) =>
                    new Vgg(vgg[..5], vgg.Contains("_bn"), vgg.EndsWith("_cifar", StringComparison.Ordinal), spec.Channels, spec.Classes),
                var resnet when resnet.StartsWith("resnet", StringComparison.Ordinal) && Names.Contains(resnet) =>
                    new ResNet(int.Parse(resnet[6..8], System.Globalization.CultureInfo.InvariantCulture), resnet.EndsWith("_cifar", StringComparison.Ordinal), spec.Channels, spec.Classes),
                _ => throw new ArgumentException($"Unknown model '{spec.Name}'; known models: {string.Join(", ", Names)}.", nameof(spec)),
            };
        }
    }
}
