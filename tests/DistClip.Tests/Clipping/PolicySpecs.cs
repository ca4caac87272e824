// Per-layer, AGC and AutoClip against independent computations; the spec syntax.
using DistClip.Training.Clipping;
using Xunit;
using static TorchSharp.torch;

namespace DistClip.Tests.Clipping;

public class PolicySpecs
{
    private static double Norm(IEnumerable<float> values) => Math.Sqrt(values.Sum(v => (double)v * v));
    private static float[] Values(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Should_clip_each_tensor_by_its_own_norm()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(1);
        Tensor[] grads = [randn([8, 4], generator: g) * 3, randn([4], generator: g) * 0.01f, randn([2, 3, 3], generator: g)];
        var before = grads.Select(Values).ToArray();
        double maxNorm = 1.0;

        var outcome = new Clipper(new ClipPolicy.PerLayer(maxNorm, 2.0), ["a.weight", "a.bias", "b.weight"]).Apply(grads, grads);

        int expectedClipped = 0;
        for (int i = 0; i < grads.Length; i++)
        {
            double own = Norm(before[i]);
            if (own > maxNorm)
            {
                expectedClipped++;
                Assert.True(Math.Abs(Norm(Values(grads[i])) - maxNorm) < 1e-4, $"tensor {i}: post-clip norm {Norm(Values(grads[i]))}");
            }
            else Assert.Equal(before[i], Values(grads[i]));
        }
        Assert.Equal((expectedClipped, grads.Length), (outcome.ClippedUnits, outcome.Units));
        Assert.Equal(2, expectedClipped);  // the test itself covers both branches
        Assert.True(Math.Abs(outcome.PreClipNorm - Norm(before.SelectMany(v => v))) < 1e-4);
    }

    [Fact]
    public void Should_clip_units_relative_to_their_weights_with_epsilon()
    {
        using var scope = NewDisposeScope();
        // A 3×2 weight: row 0 large, row 1 small, row 2 zero (ε applies); and a bias of 3.
        var w = tensor(new float[] { 3, 4, 0.1f, 0, 0, 0 }, [3, 2]);
        var gw = tensor(new float[] { 0.2f, 0, 1, 1, 0.001f, 0 }, [3, 2]);
        var b = tensor(new float[] { 1, 2, 2 });
        var gb = tensor(new float[] { 0.5f, 0, 0 });
        double lambda = 0.05, eps = LayerwiseClipping.AgcEpsilon;

        var outcome = new Clipper(new ClipPolicy.Adaptive(lambda, IncludeFinalLayer: true), ["fc.weight", "fc.bias"]).Apply([gw, gb], [w, b]);

        // Independent: unit i clipped when ‖G_i‖ / max(‖W_i‖, ε) > λ, scaled to λ·max(‖W_i‖, ε).
        float[][] gRows = [[0.2f, 0], [1, 1], [0.001f, 0]], wRows = [[3, 4], [0.1f, 0], [0, 0]];
        var got = Values(gw);
        for (int i = 0; i < 3; i++)
        {
            double wn = Math.Max(Norm(wRows[i]), eps), gn = Norm(gRows[i]);
            double factor = gn / wn > lambda ? lambda * wn / gn : 1.0;
            for (int j = 0; j < 2; j++) Assert.True(Math.Abs(got[i * 2 + j] - gRows[i][j] * factor) < 1e-6, $"row {i}, column {j}: {got[i * 2 + j]} vs {gRows[i][j] * factor}");
        }
        double biasFactor = 0.5 / 3 > lambda ? lambda * 3 / 0.5 : 1.0;   // a bias is one unit
        Assert.True(Math.Abs(Values(gb)[0] - 0.5 * biasFactor) < 1e-6);
        Assert.Equal((3, 4), (outcome.ClippedUnits, outcome.Units));  // rows 1 and 2 (ε), and the bias; row 0 is within λ
    }

    [Fact]
    public void Should_leave_the_final_classifier_out_of_agc_unless_asked()
    {
        using var scope = NewDisposeScope();
        string[] names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];
        Tensor[] Weights() => [ones(2, 2), ones(2), ones(2, 2), ones(2)];
        Tensor[] Grads() => [ones(2, 2), ones(2), ones(2, 2), ones(2)];

        var excluded = Grads();
        var outcome = new Clipper(new ClipPolicy.Adaptive(0.01), names).Apply(excluded, Weights());
        Assert.Equal(3, outcome.Units);  // fc1's two rows and its bias
        Assert.Equal(Values(ones(2, 2)), Values(excluded[2]));

        var all = Grads();
        Assert.Equal(6, new Clipper(new ClipPolicy.Adaptive(0.01, IncludeFinalLayer: true), names).Apply(all, Weights()).Units);
        Assert.NotEqual(Values(ones(2, 2)), Values(all[2]));
    }

    [Theory]
    [InlineData(new double[] { 4, 1, 3, 2 }, 10, 1.3)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 50, 2.5)]
    [InlineData(new double[] { 5 }, 90, 5)]
    [InlineData(new double[] { 1, 10 }, 100, 10)]
    public void Should_take_numpys_linear_percentile_of_the_history(double[] norms, double percentile, double expected)
    {
        var history = new AutoClipHistory();
        foreach (var n in norms) history.Add(n);
        history.Add(double.NaN);  // never part of the history
        Assert.Equal(norms.Length, history.Count);
        Assert.Equal(expected, history.Percentile(percentile), 9);
    }

    [Fact]
    public void Should_clip_at_the_percentile_of_norms_seen_so_far_including_this_one()
    {
        using var scope = NewDisposeScope();
        var clipper = new Clipper(new ClipPolicy.Auto(50), ["w"]);
        var thresholds = new List<double>();
        foreach (var norm in new[] { 2f, 4f, 1f, 8f })
        {
            Tensor[] g = [tensor(new[] { norm, 0f })];
            var outcome = clipper.Apply(g, [zeros(2)]);
            thresholds.Add(outcome.Threshold);
            Assert.Equal(norm, outcome.PreClipNorm, 5);
            Assert.True(Math.Abs(Values(g[0])[0] - Math.Min(norm, outcome.Threshold)) < 1e-4, $"norm {norm} clipped to {Values(g[0])[0]}, threshold {outcome.Threshold}");
        }
        Assert.Equal([2, 3, 2, 3], thresholds);  // medians of {2}, {2,4}, {1,2,4}, {1,2,4,8}
    }

    [Theory]
    [InlineData("none")]
    [InlineData("norm:1:2")]
    [InlineData("norm:0.5:inf")]
    [InlineData("value:0.25")]
    [InlineData("layer:1:2")]
    [InlineData("agc:0.01")]
    [InlineData("agc:0.02:all")]
    [InlineData("auto:10:2")]
    public void Should_round_trip_clip_specs(string spec) => Assert.Equal(spec, ClipPolicy.Parse(spec).ToString());

    [Fact]
    public void Should_fill_in_default_norm_types()
    {
        Assert.Equal(new ClipPolicy.GlobalNorm(1, 2), ClipPolicy.Parse("norm:1"));
        Assert.Equal(new ClipPolicy.Auto(10, 2), ClipPolicy.Parse("auto:10"));
        Assert.Equal(new ClipPolicy.PerLayer(1, double.PositiveInfinity), ClipPolicy.Parse("LAYER:1:INF"));
    }

    [Theory]
    [InlineData("norm")]
    [InlineData("norm:-1")]
    [InlineData("norm:1:0.5")]
    [InlineData("value:0")]
    [InlineData("auto:101")]
    [InlineData("agc:0.01:some")]
    [InlineData("clip:1")]
    [InlineData("norm:1:2:3")]
    public void Should_reject_bad_specs_naming_them(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => ClipPolicy.Parse(spec));
        Assert.Contains($"'{spec}'", e.Message);
    }
}
