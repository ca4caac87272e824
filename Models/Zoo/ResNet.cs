// ResNet as torchvision builds it (resnet18/34 with basic blocks, resnet50 with bottlenecks), and the CIFAR-shaped stem.
using DistClip.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// torchvision's ResNet (He et al. 2016) with its state_dict names (<c>conv1</c>, <c>bn1</c>,
/// <c>layer1.0.conv1</c>, <c>layer2.0.downsample.0</c>, <c>fc</c>): resnet18 has 11,689,512 parameters
/// for 1000 classes. The CIFAR-shaped variant replaces the 7×7 stride-2 stem and its max-pool by a 3×3
/// stride-1 convolution, as is usual for 32×32 inputs. Batch norm makes each worker normalise by its
/// own shard's statistics (see docs/DECISIONS.md).
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly nn.Module<Tensor, Tensor> maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc;

    /// <summary>Blocks per stage and block kind of each depth.</summary>
    public static readonly IReadOnlyDictionary<int, (int[] Blocks, bool Bottleneck)> Depths = new Dictionary<int, (int[], bool)>
    {
        [18] = ([2, 2, 2, 2], false),
        [34] = ([3, 4, 6, 3], false),
        [50] = ([3, 4, 6, 3], true),
    };

    public ResNet(int depth, bool cifar, int channels, int classes) : base($"resnet{depth}")
    {
        var (blocks, bottleneck) = Depths[depth];
        int expansion = bottleneck ? 4 : 1;
        conv1 = cifar ? nn.Conv2d(channels, 64, 3, stride: 1, padding: 1, bias: false) : nn.Conv2d(channels, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = new BatchNorm2d(64);
        maxpool = cifar ? nn.Identity() : nn.MaxPool2d(3, stride: 2, padding: 1);
        int inPlanes = 64;
        Sequential Stage(int planes, int count, int stride)
        {
            var stage = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < count; b++)
            {
                stage.Add(bottleneck ? new Bottleneck(inPlanes, planes, b == 0 ? stride : 1) : new BasicBlock(inPlanes, planes, b == 0 ? stride : 1));
                inPlanes = planes * expansion;
            }
            return nn.Sequential(stage.ToArray());
        }
        layer1 = Stage(64, blocks[0], 1);
        layer2 = Stage(128, blocks[1], 2);
        layer3 = Stage(256, blocks[2], 2);
        layer4 = Stage(512, blocks[3], 2);
        avgpool = nn.AdaptiveAvgPool2d([1, 1]);
        fc = nn.Linear(512 * expansion, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = maxpool.forward(nn.functional.relu(bn1.forward(conv1.forward(x))));
        x = layer4.forward(layer3.forward(layer2.forward(layer1.forward(x))));
        return fc.forward(avgpool.forward(x).flatten(1));  // (B, classes)
    }

    /// <summary>The projection shortcut torchvision adds when a block changes resolution or width.</summary>
    private static Sequential? Downsample(int inPlanes, int outPlanes, int stride) =>
        stride != 1 || inPlanes != outPlanes ? nn.Sequential(nn.Conv2d(inPlanes, outPlanes, 1, stride: stride, bias: false), new BatchNorm2d(outPlanes)) : null;

    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly Sequential? downsample;

        public BasicBlock(int inPlanes, int planes, int stride) : base("BasicBlock")
        {
            conv1 = nn.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
            bn1 = new BatchNorm2d(planes);
            conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
            bn2 = new BatchNorm2d(planes);
            downsample = Downsample(inPlanes, planes, stride);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = bn2.forward(conv2.forward(nn.functional.relu(bn1.forward(conv1.forward(x)))));
            return ReluOfSum(y, downsample?.forward(x) ?? x);
        }
    }

    private sealed class Bottleneck : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2, conv3;
        private readonly BatchNorm2d bn1, bn2, bn3;
        private readonly Sequential? downsample;

        public Bottleneck(int inPlanes, int planes, int stride) : base("Bottleneck")
        {
            conv1 = nn.Conv2d(inPlanes, planes, 1, bias: false);
            bn1 = new BatchNorm2d(planes);
            conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);  // torchvision v1.5: stride on the 3×3
            bn2 = new BatchNorm2d(planes);
            conv3 = nn.Conv2d(planes, planes * 4, 1, bias: false);
            bn3 = new BatchNorm2d(planes * 4);
            downsample = Downsample(inPlanes, planes * 4, stride);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
            y = nn.functional.relu(bn2.forward(conv2.forward(y)));
            y = bn3.forward(conv3.forward(y));
            return ReluOfSum(y, downsample?.forward(x) ?? x);
        }
    }

    /// <summary>relu(y + shortcut). TorchSharp's <c>y + shortcut</c> passes alpha = 1 as a temporary Scalar (see <see cref="HeldScalars"/>); this one is held.</summary>
    private static Tensor ReluOfSum(Tensor y, Tensor shortcut)
    {
        using var alpha = new HeldScalars();
        return nn.functional.relu(y.add(shortcut, alpha.One));
    }
}
