// The clipping math against independent computations, in the style of PyTorch's own tests.
using DistClip.Training.Clipping;
using Xunit;
using static TorchSharp.torch;

namespace DistClip.Tests.Clipping;

public class GradientClippingSpecs
{
    private static Tensor[] Gradients(int seed, float scale)
    {
        var g = new Generator((ulong)seed);
        return [randn([10, 10], generator: g) * scale, randn([5], generator: g) * scale, randn([3, 4, 2], generator: g) * scale];
    }

    /// <summary>The p-norm of all elements, in double precision, computed without any tensor norm routine.</summary>
    private static double IndependentNorm(IEnumerable<Tensor> grads, double p)
    {
        var values = grads.SelectMany(t => t.data<float>().ToArray()).Select(v => Math.Abs((double)v)).ToArray();
        return double.IsPositiveInfinity(p) ? values.Max() : Math.Pow(values.Sum(v => Math.Pow(v, p)), 1 / p);
    }

    /// <summary>The product's clipping path: measure, decide, apply (<see cref="Clipper"/>).</summary>
    private static ClipOutcome Clip(ClipPolicy policy, Tensor[] grads) => new Clipper(policy, grads.Select((_, i) => $"t{i}.weight").ToArray()).Apply(grads, grads);

    private static bool Same(Tensor a, Tensor b) => a.data<float>().ToArray().AsSpan().SequenceEqual(b.data<float>().ToArray());

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(3.0)]
    [InlineData(double.PositiveInfinity)]
    public void Should_clip_to_max_norm_and_return_the_pre_clip_norm(double p)
    {
        using var scope = NewDisposeScope();
        var grads = Gradients(1, 10f);
        var before = grads.Select(g => g.clone()).ToArray();
        double expected = IndependentNorm(grads, p);
        double maxNorm = expected / 4;

        var outcome = Clip(new ClipPolicy.GlobalNorm(maxNorm, p), grads);

        Assert.True(Math.Abs(outcome.PreClipNorm - expected) <= 1e-4 * expected, $"pre-clip norm {outcome.PreClipNorm}, independent {expected}");
        Assert.True(outcome.Clipped);
        double after = IndependentNorm(grads, p);
        Assert.True(Math.Abs(after - maxNorm) <= 1e-4 * maxNorm, $"post-clip norm {after}, max_norm {maxNorm}");
        double coef = maxNorm / (expected + 1e-6);
        Assert.True(Math.Abs(outcome.Coefficient - coef) <= 1e-5 * coef, $"coefficient {outcome.Coefficient}, expected {coef}");
        for (int i = 0; i < grads.Length; i++)  // every element scaled by the same factor
            Assert.True(grads[i].allclose(before[i] * coef, rtol: 1e-5, atol: 1e-7), $"tensor {i} was not scaled uniformly by {coef}");
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(double.PositiveInfinity)]
    public void Should_leave_gradients_bit_identical_below_the_threshold(double p)
    {
        using var scope = NewDisposeScope();
        var grads = Gradients(2, 0.01f);
        var before = grads.Select(g => g.clone()).ToArray();
        double norm = IndependentNorm(grads, p);

        var outcome = Clip(new ClipPolicy.GlobalNorm(norm * 2, p), grads);

        Assert.False(outcome.Clipped);
        Assert.Equal(1.0, outcome.Coefficient);
        for (int i = 0; i < grads.Length; i++) Assert.True(Same(grads[i], before[i]), $"tensor {i} changed below the threshold");
    }

    [Fact]
    public void Should_equal_torchsharp_clip_grad_norm_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        foreach (var p in new[] { 1.0, 1.5, 2.0, 3.0, double.PositiveInfinity })
        {
            var ours = Gradients(3, 5f);
            var parameters = ours.Select(g => new TorchSharp.Modules.Parameter(zeros_like(g))).ToArray();
            for (int i = 0; i < ours.Length; i++) parameters[i].grad = ours[i].clone();
            double torchNorm = nn.utils.clip_grad_norm_(parameters, 1.0, p);
            var outcome = Clip(new ClipPolicy.GlobalNorm(1.0, p), ours);
            Assert.True(outcome.PreClipNorm == (float)torchNorm, $"p={p}: ours {outcome.PreClipNorm:R}, TorchSharp {torchNorm:R}");
            for (int i = 0; i < ours.Length; i++)  // libtorch's own clip_grad_norm_, to the bit
                Assert.True(ours[i].data<float>().ToArray().SequenceEqual(parameters[i].grad!.data<float>().ToArray()), $"p={p}: tensor {i} differs from TorchSharp's clip_grad_norm_ (max |Δ| {(ours[i] - parameters[i].grad!).abs().max().item<float>():E2})");
        }
    }

    [Fact]
    public void Should_clamp_every_element_by_value()
    {
        using var scope = NewDisposeScope();
        var grads = Gradients(4, 1f);
        var before = grads.Select(g => g.clone()).ToArray();

        var outcome = Clip(new ClipPolicy.Value(0.5), grads);

        Assert.True(outcome.Clipped);
        for (int i = 0; i < grads.Length; i++)
        {
            var expected = before[i].data<float>().ToArray().Select(v => Math.Clamp(v, -0.5f, 0.5f)).ToArray();
            Assert.Equal(expected, grads[i].data<float>().ToArray());
        }
        Assert.False(Clip(new ClipPolicy.Value(0.5), Gradients(5, 0.01f)).Clipped);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Should_report_a_non_finite_norm_and_leave_gradients_alone(float poison)
    {
        using var scope = NewDisposeScope();
        var grads = Gradients(6, 1f);
        grads[1][2] = tensor(poison);
        var before = grads[0].clone();

        var norm = Clip(new ClipPolicy.GlobalNorm(1.0, 2.0), grads);
        var value = Clip(new ClipPolicy.Value(0.5), grads);

        Assert.False(norm.NormIsFinite);
        Assert.False(value.NormIsFinite);
        Assert.True(Same(grads[0], before), "gradients changed although the norm was not finite");
    }

    [Theory]
    [InlineData("2", 2.0)]
    [InlineData("inf", double.PositiveInfinity)]
    [InlineData("1.5", 1.5)]
    public void Should_parse_norm_types(string text, double expected) => Assert.Equal(expected, ClipPolicy.ParseNormType(text));

    [Theory]
    [InlineData("0.5")]
    [InlineData("two")]
    [InlineData("nan")]
    public void Should_reject_invalid_norm_types(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => ClipPolicy.ParseNormType(text));
        Assert.Contains(text, e.Message);
    }
}
