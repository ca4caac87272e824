// Batch order, shard split and the deterministic reduction.
using DistClip.Coordinator.Steps;
using DistClip.Protocol;
using DistClip.Training.Reduction;
using Xunit;

namespace DistClip.Tests.Steps;

public class StepSpecs
{
    [Theory]
    [InlineData(10, 3)]
    [InlineData(7, 4)]
    [InlineData(2, 4)]
    [InlineData(64, 1)]
    public void Should_split_a_batch_into_disjoint_covering_near_equal_shards(int batch, int shards)
    {
        var indices = Enumerable.Range(100, batch).ToArray();
        var split = ShardPlan.Split(indices, shards);
        Assert.Equal(shards, split.Length);
        Assert.Equal(indices, split.SelectMany(s => s).ToArray());
        Assert.True(split.Max(s => s.Length) - split.Min(s => s.Length) <= 1, $"sizes {string.Join(",", split.Select(s => s.Length))}");
    }

    [Fact]
    public void Should_visit_every_sample_once_per_epoch_in_a_seeded_order()
    {
        var schedule = new BatchOrder(100, 32, shuffle: true, seed: 5);
        Assert.Equal(4, schedule.StepsPerEpoch);
        var epoch0 = Enumerable.Range(0, 4).SelectMany(b => schedule.GlobalBatch(b)).ToArray();
        var epoch1 = Enumerable.Range(4, 4).SelectMany(b => schedule.GlobalBatch(b)).ToArray();
        Assert.Equal(Enumerable.Range(0, 100), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 100), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(4, schedule.GlobalBatch(3).Length);  // the last batch of an epoch is short
        Assert.Equal(epoch0, Enumerable.Range(0, 4).SelectMany(b => new BatchOrder(100, 32, true, 5).GlobalBatch(b)).ToArray());
    }

    [Fact]
    public void Should_visit_file_order_without_shuffling()
    {
        var schedule = new BatchOrder(10, 4, shuffle: false, seed: 5);
        Assert.Equal([4, 5, 6, 7], schedule.GlobalBatch(1));
        Assert.Equal([8, 9], schedule.GlobalBatch(2));
        Assert.Equal([0, 1, 2, 3], schedule.GlobalBatch(3));
    }

    private static ShardGradients Shard(int shard, int count, params float[] grad) => new(0, 0, shard, count, count, grad);

    private static bool Add(GradientReducer reducer, ShardGradients g) => reducer.Add(g.Shard, g.SampleCount, g.LossSum, g.GradientSum);

    [Fact]
    public void Should_reduce_to_the_sample_weighted_mean_whatever_the_arrival_order()
    {
        var random = new Random(7);
        var shards = Enumerable.Range(0, 4).Select(s => Shard(s, s + 1, Enumerable.Range(0, 1000).Select(_ => (float)random.NextDouble() * 1e3f).ToArray())).ToArray();
        float[]? first = null;
        foreach (var order in new[] { new[] { 0, 1, 2, 3 }, new[] { 3, 2, 1, 0 }, new[] { 2, 0, 3, 1 } })
        {
            var reducer = new GradientReducer(4, new float[1000]);
            foreach (var s in order) Assert.True(Add(reducer, shards[s]));
            Assert.True(reducer.IsComplete);
            Assert.Equal(10, reducer.SampleCount);
            var mean = (float[])reducer.MeanGradient().Clone();
            first ??= mean;
            Assert.Equal(first, mean);  // bit-identical
        }
        for (int i = 0; i < 1000; i++)
        {
            double expected = shards.Sum(s => (double)s.GradientSum[i]) / 10;
            Assert.True(Math.Abs(first![i] - expected) <= 1e-5 * Math.Abs(expected) + 1e-6, $"element {i}: {first[i]} vs {expected}");
        }
    }

    [Fact]
    public void Should_refuse_duplicates_and_wrong_lengths()
    {
        var reducer = new GradientReducer(2, new float[3]);
        Assert.True(Add(reducer, Shard(1, 1, 1, 2, 3)));
        Assert.False(Add(reducer, Shard(1, 1, 1, 2, 3)));
        Assert.False(Add(reducer, Shard(0, 1, 1, 2)));
        Assert.False(Add(reducer, Shard(2, 1, 1, 2, 3)));
        Assert.False(reducer.IsComplete);
    }

    [Fact]
    public void Should_accept_only_the_assigned_worker_for_the_current_step()
    {
        var step = new StepInFlight<string>(4, 9, [[0, 1], [2]], new float[2]);
        step.Assign(0, "a");
        step.Assign(1, "b");
        Assert.Contains("not assigned", step.Accept("b", new ShardGradients(4, 9, 0, 2, 1, [1, 1])));
        Assert.Contains("current", step.Accept("a", new ShardGradients(3, 9, 0, 2, 1, [1, 1])));
        Assert.Contains("version", step.Accept("a", new ShardGradients(4, 8, 0, 2, 1, [1, 1])));
        Assert.Contains("elements", step.Accept("a", new ShardGradients(4, 9, 0, 2, 1, [1, 1, 1])));
        Assert.Contains("samples", step.Accept("a", new ShardGradients(4, 9, 0, 3, 1, [1, 1])));
        Assert.Null(step.Accept("a", new ShardGradients(4, 9, 0, 2, 1, [1, 1])));
        Assert.Contains("duplicate", step.Accept("a", new ShardGradients(4, 9, 0, 2, 1, [1, 1])));
        Assert.Equal([1], step.Release("b"));
        Assert.Equal([1], step.Unassigned());
        step.Assign(1, "a");
        Assert.Null(step.Accept("a", new ShardGradients(4, 9, 1, 1, 1, [2, 2])));
        Assert.True(step.IsComplete);
    }
}
