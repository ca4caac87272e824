// Faulty shards told apart from a gradient that is not finite anyway, without actors.
using DistClip.Coordinator.Steps;
using DistClip.Training.Reduction;
using Xunit;

namespace DistClip.Tests.Steps;

public class FaultyShardsSpecs
{
    [Fact]
    public void Should_blame_the_first_worker_when_a_second_opinion_is_finite_and_exhaust_it_at_the_limit()
    {
        var faulty = new FaultyShards<string>(maxBadShards: 2);
        for (int step = 0; step < 2; step++)
        {
            faulty.BeginStep();
            Assert.True(faulty.Suspect(shard: 1, "bad"));     // compute it again elsewhere
            var (blamed, count) = faulty.Confirmed(shard: 1);  // the other worker's result is finite
            Assert.Equal(("bad", step + 1), (blamed, count));
            Assert.Equal(step == 1, faulty.Exhausted(count));
            Assert.Equal(1, faulty.ThisStep);
        }
        Assert.Equal(2, faulty.Total);
        Assert.Equal((null, 0), faulty.Confirmed(shard: 0));   // nothing suspected: nobody blamed
    }

    [Fact]
    public void Should_blame_nobody_when_the_second_opinion_is_not_finite_either()
    {
        var faulty = new FaultyShards<string>(maxBadShards: 1);
        faulty.BeginStep();
        Assert.True(faulty.Suspect(shard: 0, "a"));
        Assert.True(faulty.Suspect(shard: 0, "a"));    // the suspect itself is no second opinion
        Assert.False(faulty.Suspect(shard: 0, "b"));   // another worker agrees: the model diverged, reduce it as it is
        Assert.Equal((null, 0), faulty.Confirmed(shard: 0));
        Assert.Equal(0, faulty.Total);

        faulty.BeginStep();                            // a suspicion does not outlive its step
        Assert.True(faulty.Suspect(shard: 0, "a"));
        faulty.Forgive(shard: 0);                      // nobody else to ask
        Assert.Equal((null, 0), faulty.Confirmed(shard: 0));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Should_find_a_value_that_is_not_finite_anywhere_in_a_vector(float bad)
    {
        var values = Enumerable.Range(0, 1003).Select(i => (float)Math.Sin(i) * 1e30f).ToArray();
        Assert.True(ShardCheck.AllFinite(values));
        foreach (int at in new[] { 0, 7, 8, 500, 1000, 1002 })
        {
            var copy = values.ToArray();
            copy[at] = bad;
            Assert.False(ShardCheck.AllFinite(copy), $"missed {bad} at {at}");
        }
        Assert.True(ShardCheck.AllFinite([float.MaxValue, -float.MaxValue, float.Epsilon]));
    }
}
