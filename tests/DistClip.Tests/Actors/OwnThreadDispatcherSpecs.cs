// The workers' and the coordinator's dispatcher: a thread of their own each, which sleeps, not spins, when it is idle.
using Akka.Actor;
using DistClip.Protocol;
using DistClip.Worker;
using Xunit;

namespace DistClip.Tests.Actors;

public class OwnThreadDispatcherSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Answers every message with the OS thread it ran on; an <c>int[]</c> first pins that thread to those CPUs.</summary>
    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() => ReceiveAny(m =>
        {
            if (m is int[] cpus) CpuAffinity.PinCurrentThread(cpus);
            Sender.Tell(OsThread.Id());
        });
    }

    private static class OsThread
    {
        /// <summary>The calling thread's Linux thread id (<c>/proc/thread-self</c> links to <c>PID/task/TID</c>).</summary>
        public static int Id() => int.Parse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget!));

        /// <summary>How often thread <paramref name="tid"/> of this process has left its CPU, voluntarily or not.</summary>
        public static long Switches(int tid) => File.ReadLines($"/proc/self/task/{tid}/status")
            .Where(l => l.StartsWith("voluntary_ctxt_switches:") || l.StartsWith("nonvoluntary_ctxt_switches:"))
            .Sum(l => long.Parse(l.Split(':')[1].Trim()));
    }

    [Theory]
    [InlineData(AkkaDefaults.WorkerDispatcher)]
    [InlineData(AkkaDefaults.CoordinatorDispatcher)]
    public async Task Should_run_each_actor_on_one_thread_of_its_own(string dispatcher)
    {
        var (a, b) = (Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(dispatcher)),
                      Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(dispatcher)));
        var (threadsOfA, threadsOfB) = (new HashSet<int>(), new HashSet<int>());
        for (int i = 0; i < 5; i++)
        {
            threadsOfA.Add(await a.Ask<int>("which", Wait));
            threadsOfB.Add(await b.Ask<int>("which", Wait));
        }
        Assert.Single(threadsOfA);
        Assert.Single(threadsOfB);
        Assert.NotEqual(threadsOfA.Single(), threadsOfB.Single());
    }

    /// <summary>
    /// An idle actor thread that shares its CPU with a busy one must leave that CPU about once per message (measured: once),
    /// not again and again (Akka's pinned dispatcher, measured: ~7 times): that one yields ~100 times before it blocks,
    /// and each yield switched a computing worker off its core
    /// (docs/BENCHMARKS.md, "Where an embedded step's time goes"). Counted, not timed: the kernel's switch counters.
    /// </summary>
    [Fact]
    public async Task Should_let_an_idle_actor_thread_sleep_instead_of_yielding_its_cpu_over_and_over()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(AkkaDefaults.WorkerDispatcher));
        int tid = await actor.Ask<int>(new[] { 0 }, Wait);   // the actor's thread now runs on CPU 0 only
        using var stop = new CancellationTokenSource();
        var busy = new Thread(() =>
        {
            CpuAffinity.PinCurrentThread([0]);
            while (!stop.IsCancellationRequested) Thread.SpinWait(1000);
        }) { IsBackground = true };
        busy.Start();
        await Task.Delay(50);   // the busy thread is on CPU 0

        const int messages = 20;
        long switches;
        try
        {
            long before = OsThread.Switches(tid);
            for (int i = 0; i < messages; i++)
            {
                Assert.Equal(tid, await actor.Ask<int>("which", Wait));
                await Task.Delay(20);   // idle time, in which a spinning thread would yield to the busy one over and over
            }
            switches = OsThread.Switches(tid) - before;
        }
        finally
        {
            stop.Cancel();   // the busy thread never outlives the test, whatever failed
            busy.Join();
        }

        Assert.True(switches <= 2 * messages, $"the idle actor thread left its CPU {switches} times for {messages} messages");
    }
}
