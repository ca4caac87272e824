// DistClip's optimizers are TorchSharp's, step for step and bit for bit.
using DistClip.Training.Optimization;
using DistClip.Models.Zoo;
using Xunit;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Optimization;

[Collection(nameof(StockTorchSharp))]  // TorchSharp's own optimizers, whose temporary Scalars another test's collections could free
public class OptimizerSpecs
{
    private static readonly ModelSpec Spec = new("lenet", 1, 28, 28, 10);

    public static TheoryData<string, double, double, bool> Configurations() => new()
    {
        { "sgd", 0.9, 0.0, false },
        { "sgd", 0.9, 1e-3, true },
        { "sgd", 0.0, 1e-3, false },
        { "adam", 0, 0.0, false },
        { "adam", 0, 1e-2, false },
        { "adamw", 0, 1e-2, false },
    };

    /// <summary>The optimizer TorchSharp itself builds for the same settings.</summary>
    private static optim.Optimizer TorchSharpOwn(IEnumerable<TorchSharp.Modules.Parameter> parameters, OptimizerSettings s) => s.Name switch
    {
        "sgd" => optim.SGD(parameters, s.LearningRate, s.Momentum, 0.0, s.WeightDecay, s.Nesterov),
        "adam" => optim.Adam(parameters, s.LearningRate, weight_decay: s.WeightDecay),
        _ => optim.AdamW(parameters, s.LearningRate, weight_decay: s.WeightDecay),
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Should_take_the_same_steps_as_torchsharp_to_the_bit(string name, double momentum, double weightDecay, bool nesterov)
    {
        var settings = new OptimizerSettings(name, 0.01, momentum, nesterov, weightDecay);
        using var ours = ModelZoo.Create(Spec, 3);
        using var theirs = ModelZoo.Create(Spec, 3);
        using var ourOptimizer = OptimizerFactory.Create(ours.parameters(), settings);
        using var theirOptimizer = TorchSharpOwn(theirs.parameters(), settings);
        Assert.IsType(name switch { "sgd" => typeof(Sgd), "adam" => typeof(Adam), _ => typeof(AdamW) }, ourOptimizer);  // not TorchSharp's own
        var generator = new Generator(seed: 5);
        for (int step = 0; step < 12; step++)
        {
            using var scope = NewDisposeScope();
            foreach (var (a, b) in ours.parameters().Zip(theirs.parameters()))
            {
                var gradient = randn(a.shape, generator: generator);
                a.grad = gradient.clone();
                b.grad = gradient.clone();
            }
            ourOptimizer.step();
            theirOptimizer.step();
        }
        var ourValues = new FlatParameters(ours).ReadValues();
        var theirValues = new FlatParameters(theirs).ReadValues();
        Assert.True(ourValues.AsSpan().SequenceEqual(theirValues), $"{name}: differs from TorchSharp's by up to {ourValues.Zip(theirValues, (x, y) => Math.Abs(x - y)).Max():E2}");
        using var initial = ModelZoo.Create(Spec, 3);
        Assert.NotEqual(new FlatParameters(initial).ReadValues(), ourValues);  // it did step
    }
}
