// The roster without actors: admission, joining at step boundaries, departures, and who takes an orphaned shard.
using DistClip.Coordinator.Steps;
using Xunit;

namespace DistClip.Tests.Steps;

public class WorkerRosterSpecs
{
    [Fact]
    public void Should_make_a_worker_admitted_between_steps_active_at_once_in_admission_order()
    {
        var roster = new WorkerRoster<string>();
        Assert.True(roster.Admit("a", stepInFlight: false));
        Assert.True(roster.Admit("b", stepInFlight: false));
        Assert.Equal(["a", "b"], roster.Active);
        Assert.False(roster.Admit("a", stepInFlight: false));  // a second registration changes nothing
        Assert.Equal(["a", "b"], roster.Active);
    }

    [Fact]
    public void Should_let_a_worker_admitted_mid_step_join_at_the_next_step_boundary()
    {
        var roster = new WorkerRoster<string>();
        roster.Admit("a", stepInFlight: false);
        roster.Admit("b", stepInFlight: true);
        Assert.Equal(["a"], roster.Active);
        Assert.Equal(["a", "b"], roster.All);
        Assert.True(roster.Contains("b"));
        Assert.False(roster.Admit("b", stepInFlight: true));
        roster.BeginStep();
        Assert.Equal(["a", "b"], roster.Active);
    }

    [Fact]
    public void Should_forget_a_worker_that_left_active_or_joining()
    {
        var roster = new WorkerRoster<string>();
        roster.Admit("a", stepInFlight: false);
        roster.Admit("b", stepInFlight: true);
        Assert.True(roster.Remove("a"));
        Assert.True(roster.Remove("b"));
        Assert.False(roster.Remove("c"));
        Assert.Empty(roster.All);
    }

    [Fact]
    public void Should_hand_orphaned_shards_round_robin_to_the_active_workers()
    {
        var roster = new WorkerRoster<string>();
        foreach (var w in new[] { "a", "b", "c" }) roster.Admit(w, stepInFlight: false);
        roster.Admit("late", stepInFlight: true);
        Assert.Equal(["a", "b", "c", "a", "b"], roster.TakeOrphans(5));
        Assert.Equal(["a", "b", "c"], roster.Active);  // the joining worker waits for its boundary
    }

    [Fact]
    public void Should_promote_the_joining_workers_it_uses_when_no_active_one_is_left()
    {
        var roster = new WorkerRoster<string>();
        roster.Admit("a", stepInFlight: false);
        foreach (var w in new[] { "x", "y", "z" }) roster.Admit(w, stepInFlight: true);
        roster.Remove("a");
        Assert.Equal(["x", "y"], roster.TakeOrphans(2));
        Assert.Equal(["x", "y"], roster.Active);
        Assert.Equal(["x", "y", "z"], roster.All);  // z was not needed: it joins at the boundary
        foreach (var w in new[] { "x", "y", "z" }) roster.Remove(w);
        Assert.Empty(roster.TakeOrphans(1));
    }
}
