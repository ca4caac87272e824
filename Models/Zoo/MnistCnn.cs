// The classic MNIST convolutional network: two 5×5 convolutions with pooling, a 1024-unit layer, a classifier.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// The TensorFlow-tutorial MNIST network: conv1 (32 filters, 5×5, same padding) → ReLU → max-pool 2 →
/// conv2 (64 filters, 5×5, same padding) → ReLU → max-pool 2 → fc1 1024 → ReLU → fc2 classes.
/// 3,274,634 parameters for 1×28×28 inputs and 10 classes.
/// </summary>
public sealed class MnistCnn : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;

    public MnistCnn(int channels, int height, int width, int classes) : base("cnn")
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "must be at least 1");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "must be at least 1");
        int h = height / 4, w = width / 4;  // two 2×2 poolings of same-padded convolutions
        if (h < 1 || w < 1)
            throw new ArgumentOutOfRangeException(nameof(height), $"{height}x{width}", "cnn needs inputs of at least 4x4 pixels");
        conv1 = nn.Conv2d(channels, 32, 5, padding: 2);
        conv2 = nn.Conv2d(32, 64, 5, padding: 2);
        fc1 = nn.Linear(64 * h * w, 1024);
        fc2 = nn.Linear(1024, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = nn.functional.max_pool2d(nn.functional.relu(conv1.forward(x)), 2);  // (B, 32, H/2, W/2)
        x = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(x)), 2);  // (B, 64, H/4, W/4)
        x = nn.functional.relu(fc1.forward(x.flatten(1)));                      // (B, 1024)
        return fc2.forward(x);                                                  // (B, classes)
    }
}
