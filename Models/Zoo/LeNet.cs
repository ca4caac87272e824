// LeNet-5 for small grey images: two 5×5 convolutions with max-pooling, then three linear layers.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// LeNet-5 (LeCun et al. 1998) as commonly written for 28×28 inputs: conv1 (6 filters, 5×5, pad 2) →
/// ReLU → max-pool 2 → conv2 (16 filters, 5×5) → ReLU → max-pool 2 → fc1 120 → fc2 84 → fc3 classes.
/// 61,706 parameters for 1×28×28 inputs and 10 classes.
/// </summary>
public sealed class LeNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    public LeNet(int channels, int height, int width, int classes) : base("lenet")
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be at least 1");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "must be at least 1");
        int h = (height / 2 - 4) / 2, w = (width / 2 - 4) / 2;  // after conv1(pad 2)+pool, conv2+pool
        if (h < 1 || w < 1)
            throw new ArgumentOutOfRangeException(nameof(height), $"{height}x{width}", "lenet needs inputs of at least 12x12 pixels");
        conv1 = nn.Conv2d(channels, 6, 5, padding: 2);
        conv2 = nn.Conv2d(6, 16, 5);
        fc1 = nn.Linear(16 * h * w, 120);
        fc2 = nn.Linear(120, 84);
        fc3 = nn.Linear(84, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = nn.functional.max_pool2d(nn.functional.relu(conv1.forward(x)), 2);  // (B, 6, H/2, W/2)
        x = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(x)), 2);  // (B, 16, h, w)
        x = x.flatten(1);                                                  // (B, 16·h·w)
        x = nn.functional.relu(fc1.forward(x));
        x = nn.functional.relu(fc2.forward(x));
        return fc3.forward(x);                                             // (B, classes)
    }
}
