// The sharded exchange's ownership: element ranges that cover the vector once, balanced; tensors measured once each.
using DistClip.Training.Clipping;
using DistClip.Training.Reduction;
using Xunit;

namespace DistClip.Tests.Reduction;

public class RangePlanSpecs
{
    [Theory]
    [InlineData(61_706, 3)]       // lenet's exchange vector
    [InlineData(3_274_634, 2)]    // cnn's
    [InlineData(100, 7)]
    [InlineData(5, 4)]            // fewer aligned units than owners: some ranges are empty
    [InlineData(0, 2)]
    [InlineData(1_000, 1)]
    public void Should_cover_every_element_once_in_order_balanced_to_one_alignment_unit(int length, int owners)
    {
        var plan = RangePlan.Balanced(length, owners, version: 7);
        Assert.Equal(owners, plan.Owners);
        Assert.Equal(7, plan.Version);
        int next = 0;
        foreach (var range in plan.Ranges)
        {
            Assert.Equal(next, range.Start);
            Assert.True(range.Length >= 0);
            if (range.End < length) Assert.Equal(0, range.End % RangePlan.Alignment);
            next = range.End;
        }
        Assert.Equal(length, next);
        double fair = (double)length / owners;
        Assert.All(plan.Ranges, r => Assert.True(Math.Abs(r.Length - fair) <= RangePlan.Alignment, $"{r} is not within {RangePlan.Alignment} of {fair:F1}"));
        for (int e = 0; e < length; e += Math.Max(1, length / 997))
        {
            var owner = plan.Ranges[plan.OwnerOf(e)];
            Assert.True(owner.Start <= e && e < owner.End, $"element {e} is not in its owner's range {owner}");
        }
    }

    [Fact]
    public void Should_refuse_a_plan_without_owners_or_an_element_outside_the_vector()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RangePlan.Balanced(10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => RangePlan.Balanced(10, 2).OwnerOf(10));
    }

    [Fact]
    public void Should_give_every_tensor_one_measurer_balancing_their_sizes()
    {
        long[] sizes = [3_211_264, 128, 16_384, 128, 1_280, 10, 288, 32];   // a cnn-like model: one tensor is 98 %
        var assignment = new NormAssignment(sizes, 3);
        var all = Enumerable.Range(0, 3).SelectMany(assignment.TensorsOf).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, sizes.Length), all);
        Assert.Equal(0, assignment.MeasurerOf(0));                     // the big one alone on the first worker
        Assert.Equal([0], assignment.TensorsOf(0));
        var loads = Enumerable.Range(1, 2).Select(w => assignment.TensorsOf(w).Sum(t => sizes[t])).ToArray();
        Assert.True(Math.Abs(loads[0] - loads[1]) <= sizes.Skip(1).Max(), $"the small tensors are not balanced: {loads[0]} vs {loads[1]}");
    }
}
