// VGG as torchvision builds it (vgg11, vgg16, with or without batch norm), and the CIFAR-shaped variant.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// torchvision's VGG: <c>features</c> (3×3 convolutions, optional batch norm, max-pooling, per
/// configuration), then for ImageNet-shaped inputs an adaptive 7×7 pool and <c>classifier</c>
/// (25088 → 4096 → 4096 → classes, with dropout): vgg16 has 138,357,544 parameters for 1000 classes.
/// The CIFAR-shaped variant (3×32×32 inputs) ends in a single <c>classifier</c> Linear(512, classes).
/// </summary>
public sealed class Vgg : nn.Module<Tensor, Tensor>
{
    /// <summary>Layer configurations: numbers are output channels of 3×3 convolutions, 0 is a 2×2 max-pool.</summary>
    public static readonly IReadOnlyDictionary<string, int[]> Configurations = new Dictionary<string, int[]>
    {
        ["vgg11"] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        ["vgg16"] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
    };

    private readonly Sequential features;
    private readonly nn.Module<Tensor, Tensor> avgpool;
    private readonly Sequential classifier;

    public Vgg(string configuration, bool batchNorm, bool cifar, int channels, int classes) : base(configuration + (batchNorm ? "_bn" : ""))
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int inChannels = channels;
        foreach (var v in Configurations[configuration])
        {
            if (v == 0) { layers.Add(nn.MaxPool2d(2, 2)); continue; }
            layers.Add(nn.Conv2d(inChannels, v, 3, padding: 1));
            if (batchNorm) layers.Add(new BatchNorm2d(v));
            layers.Add(nn.ReLU(inplace: true));
            inChannels = v;
        }
        features = nn.Sequential(layers.ToArray());
        if (cifar)
        {
            avgpool = nn.Identity();
            classifier = nn.Sequential(nn.Linear(512, classes));
        }
        else
        {
            avgpool = nn.AdaptiveAvgPool2d([7, 7]);
            classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace: true), nn.Dropout(0.5),
                nn.Linear(4096, 4096), nn.ReLU(inplace: true), nn.Dropout(0.5),
                nn.Linear(4096, classes));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => classifier.forward(avgpool.forward(features.forward(x)).flatten(1));  // (B, classes)
}
