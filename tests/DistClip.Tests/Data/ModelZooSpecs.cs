// The model zoo against torchvision's parameter counts and state_dict names.
using DistClip.Models.Zoo;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Data;

public class ModelZooSpecs
{
    [Theory]
    [InlineData("alexnet", 61_100_840)]
    [InlineData("vgg11", 132_863_336)]
    [InlineData("vgg11_bn", 132_868_840)]
    [InlineData("vgg16", 138_357_544)]
    [InlineData("vgg16_bn", 138_365_992)]
    [InlineData("resnet18", 11_689_512)]
    [InlineData("resnet34", 21_797_672)]
    [InlineData("resnet50", 25_557_032)]
    public void Should_have_torchvisions_parameter_count_for_imagenet_shapes(string name, long expected)
    {
        using var model = ModelZoo.Create(new ModelSpec(name, 3, 224, 224, 1000), 1);
        Assert.Equal(expected, new FlatParameters(model).ElementCount);
    }

    [Theory]
    [InlineData("resnet18_cifar", 11_173_962)]
    [InlineData("vgg16_bn_cifar", 14_728_266)]
    public void Should_have_the_usual_parameter_count_for_cifar_shapes(string name, long expected)
    {
        using var model = ModelZoo.Create(new ModelSpec(name, 3, 32, 32, 10), 1);
        Assert.Equal(expected, new FlatParameters(model).ElementCount);
        using var scope = TorchSharp.torch.NewDisposeScope();
        Assert.Equal(new long[] { 2, 10 }, model.forward(TorchSharp.torch.zeros(2, 3, 32, 32)).shape);
    }

    [Theory]
    [InlineData("resnet18", "conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.bias", "layer4.1.bn2.weight", "fc.bias")]
    [InlineData("resnet50", "layer1.0.conv3.weight", "layer1.0.downsample.0.weight", "layer4.2.bn3.running_var", "fc.weight")]
    [InlineData("vgg16", "features.0.weight", "features.28.bias", "classifier.0.weight", "classifier.6.weight")]
    [InlineData("vgg16_bn", "features.1.running_mean", "features.41.weight", "classifier.6.bias")]
    [InlineData("alexnet", "features.0.weight", "features.10.bias", "classifier.1.weight", "classifier.6.weight")]
    public void Should_use_torchvisions_state_dict_names(string name, params string[] names)
    {
        using var model = ModelZoo.Create(new ModelSpec(name, 3, 224, 224, 1000), 1);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.All(names, n => Assert.Contains(n, keys));
    }
}
