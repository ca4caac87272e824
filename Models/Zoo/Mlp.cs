// The multi-layer perceptron: Flatten → Linear(in, hidden) → ReLU → Linear(hidden, classes).
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>A two-layer perceptron with PyTorch <c>state_dict</c> names <c>fc1.*</c>, <c>fc2.*</c>.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Flatten flatten;
    private readonly Linear fc1;
    private readonly ReLU relu;
    private readonly Linear fc2;

    public Mlp(int inputs, int hidden, int classes) : base("mlp")
    {
        if (inputs < 1) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "must be at least 1");
        if (hidden < 1) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "must be at least 1");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "must be at least 1");
        flatten = nn.Flatten();
        fc1 = nn.Linear(inputs, hidden);
        relu = nn.ReLU();
        fc2 = nn.Linear(hidden, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(relu.forward(fc1.forward(flatten.forward(x))));  // (B, classes)
}
