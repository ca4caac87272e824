// The coordinator's optimizer step: non-finite policy, and TorchSharp's schedules as configured.
using DistClip.Coordinator;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Models.Zoo;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Clipping;

public class MasterWeightsSpecs
{
    private static readonly ModelSpec Spec = new("mlp", 1, 2, 2, 2, Hidden: 3);

    private static MasterWeights Master(NonFinitePolicy policy, ScheduleSettings? schedule = null, long steps = 10) =>
        new(ModelZoo.Create(Spec, 1), new OptimizerSettings("sgd", 0.1, 0.0), schedule ?? new ScheduleSettings("constant"), steps, new ClipPolicy.GlobalNorm(1.0, 2.0), policy);

    [Fact]
    public void Should_skip_a_step_with_a_non_finite_norm_and_keep_the_weights()
    {
        using var master = Master(NonFinitePolicy.Skip);
        var before = master.Snapshot();
        var gradient = Enumerable.Repeat(0.5f, (int)master.ExchangeLength).ToArray();
        gradient[3] = float.NaN;

        var outcome = master.Apply(0, gradient);

        Assert.True(outcome.Skipped);
        Assert.Equal(before.Values, master.Snapshot().Values);
        Assert.Equal(0, master.Version);
        var next = master.Apply(1, Enumerable.Repeat(0.5f, (int)master.ExchangeLength).ToArray());
        Assert.False(next.Skipped);
        Assert.True(next.Clipped);
        Assert.Equal(1, master.Version);
        Assert.DoesNotContain(master.Snapshot().Values, float.IsNaN);
    }

    [Fact]
    public void Should_throw_under_the_error_policy()
    {
        using var master = Master(NonFinitePolicy.Error);
        var gradient = new float[master.ExchangeLength];
        gradient[0] = float.PositiveInfinity;
        var e = Assert.Throws<NonFiniteGradientException>(() => master.Apply(7, gradient));
        Assert.Contains("step 7", e.Message);
    }

    [Fact]
    public void Should_warm_up_linearly_then_follow_the_cosine_schedule()
    {
        using var master = Master(NonFinitePolicy.Skip, new ScheduleSettings("cosine", WarmupSteps: 4), steps: 14);
        var zero = new float[master.ExchangeLength];
        var rates = Enumerable.Range(0, 14).Select(s => master.Apply(s, zero).LearningRate).ToArray();
        for (int s = 0; s < 4; s++)
            Assert.True(Math.Abs(rates[s] - 0.1 * (0.25 + 0.75 * s / 4.0)) < 1e-9, $"warm-up step {s}: lr {rates[s]}");
        for (int s = 4; s < 14; s++)
        {
            double expected = 0.1 * (1 + Math.Cos(Math.PI * (s - 4) / 10.0)) / 2;
            Assert.True(Math.Abs(rates[s] - expected) < 1e-6, $"cosine step {s}: lr {rates[s]}, expected {expected}");
        }
    }

    [Fact]
    public void Should_keep_an_exponential_moving_average_of_the_weights()
    {
        using var master = new MasterWeights(ModelZoo.Create(Spec, 1), new OptimizerSettings("sgd", 0.1, 0.0), new ScheduleSettings("constant"), 10,
            ClipPolicy.None, NonFinitePolicy.Skip, emaDecay: 0.5);
        var gradient = Enumerable.Range(0, (int)master.ExchangeLength).Select(i => (i % 5 - 2) * 0.1f).ToArray();
        var expected = master.Snapshot().Values.Select(v => (double)v).ToArray();   // the average starts at θ0
        for (int step = 0; step < 3; step++)
        {
            master.Apply(step, gradient);
            var theta = master.Snapshot().Values;
            for (int i = 0; i < expected.Length; i++) expected[i] = 0.5 * expected[i] + 0.5 * theta[i];
        }
        var average = master.AverageValues()!;
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(average[i] - expected[i]) < 1e-6, $"element {i}: {average[i]} vs {expected[i]}");
        Assert.NotEqual(master.Snapshot().Values, average);
    }
}
