// How long the coordinator waits for a shard before asking again, without actors.
using DistClip.Coordinator.Steps;
using Xunit;

namespace DistClip.Tests.Steps;

public class ResultDeadlineSpecs
{
    [Fact]
    public void Should_wait_a_multiple_of_the_typical_step_within_floor_and_ceiling_and_back_off()
    {
        var deadline = new ResultDeadline(ceilingSeconds: 120);
        Assert.Equal(ResultDeadline.Untimed, deadline.Current);
        Assert.Equal(TimeSpan.FromSeconds(60), deadline.Backoff(ResultDeadline.Untimed));
        Assert.Equal(TimeSpan.FromSeconds(120), deadline.Backoff(TimeSpan.FromSeconds(100)));
        deadline.StepTook(0.005);                                   // lenet-sized steps: the floor
        Assert.Equal(ResultDeadline.Floor, deadline.Current);
        for (int i = 0; i < 200; i++) deadline.StepTook(1.0);       // resnet-sized steps: 20 × 1 s
        Assert.InRange(deadline.Current.TotalSeconds, 19.9, 20.0);
        for (int i = 0; i < 200; i++) deadline.StepTook(30);        // very slow steps: the ceiling
        Assert.Equal(TimeSpan.FromSeconds(120), deadline.Current);
        Assert.Equal(TimeSpan.FromSeconds(0.3), new ResultDeadline(0.3) { }.Current);   // a ceiling below the floor wins
    }
}
