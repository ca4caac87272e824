// AlexNet exactly as torchvision builds it (same state_dict names and 61,100,840 parameters for 1000 classes).
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// torchvision's <c>alexnet</c>: <c>features</c> (five convolutions with max-pooling), an adaptive
/// 6×6 average pool, and <c>classifier</c> (dropout, 9216 → 4096 → 4096 → classes). Its dropout makes
/// replicas draw different masks, so N workers do not compute exactly what one process computes.
/// </summary>
public sealed class AlexNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Sequential classifier;

    public AlexNet(int channels, int classes) : base("alexnet")
    {
        features = nn.Sequential(
            nn.Conv2d(channels, 64, 11, stride: 4, padding: 2), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding: 2), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding: 1), nn.ReLU(inplace: true),
            nn.Conv2d(384, 256, 3, padding: 1), nn.ReLU(inplace: true),
            nn.Conv2d(256, 256, 3, padding: 1), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2));
        avgpool = nn.AdaptiveAvgPool2d([6, 6]);
        classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace: true),
            nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace: true),
            nn.Linear(4096, classes));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => classifier.forward(avgpool.forward(features.forward(x)).flatten(1));  // (B, classes)
}
