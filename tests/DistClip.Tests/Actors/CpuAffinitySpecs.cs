// Pinning workers to CPUs: lists are checked against the workers and threads, and the pin holds.
using DistClip.Worker;
using Xunit;

namespace DistClip.Tests.Actors;

public class CpuAffinitySpecs
{
    [Fact]
    public void Should_give_each_worker_its_run_of_cpus()
    {
        var cpus = CpuAffinity.Parse("3, 2,1,0")!;
        Assert.Equal([3, 2], CpuAffinity.ShareOf(cpus, 0, 2));
        Assert.Equal([1, 0], CpuAffinity.ShareOf(cpus, 1, 2));
        Assert.Null(CpuAffinity.Parse(" "));
    }

    [Fact]
    public void Should_reject_lists_that_do_not_fit_naming_the_option()
    {
        int n = Environment.ProcessorCount;
        Assert.Contains("exactly 2", Assert.Throws<ArgumentException>(() => CpuAffinity.Validate([0], 2, 1)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => CpuAffinity.Validate([0, 0], 1, 2)).Message);
        Assert.Contains($"CPU {n} does not exist", Assert.Throws<ArgumentException>(() => CpuAffinity.Validate([n], 1, 1, "DISTCLIP_CPUS")).Message);
        Assert.StartsWith("--cpus", Assert.Throws<ArgumentException>(() => CpuAffinity.Parse("0,-1")).Message);
    }

    [Fact]
    public void A_pinned_thread_should_run_only_on_its_cpus()
    {
        var last = Environment.ProcessorCount - 1;
        IReadOnlyList<int>? seen = null;
        var thread = new Thread(() =>
        {
            CpuAffinity.PinCurrentThread([last]);
            seen = CpuAffinity.OfCurrentThread();
        });
        thread.Start();
        thread.Join();
        Assert.Equal([last], seen);
        Assert.Equal(Environment.ProcessorCount, CpuAffinity.OfCurrentThread().Count);  // the test's own thread is untouched
    }
}
