// A dispatcher that gives its actor an OS thread of its own which sleeps, without spinning, while the mailbox is empty.
using Akka.Configuration;
using Akka.Dispatch;

namespace DistClip.Protocol;

/// <summary>
/// The dispatcher of DistClip's workers and coordinator (<see cref="AkkaDefaults"/>): like Akka's <c>PinnedDispatcher</c>,
/// one dedicated thread per actor (tensor work blocks it for a whole pass, and libtorch's intra-op thread count is set
/// per thread), but the thread blocks as soon as its mailbox is empty. Akka's pinned thread waits on a semaphore that
/// first yields ~100 times (<c>Thread.Sleep(0)</c>); on a machine whose cores the workers fill, each yield of an idle
/// coordinator or worker switches a computing worker off its core: in a 2-worker run on 2 cores the coordinator made
/// ~6000 switches a second and one worker ran 70 % of the time instead of 95 % (docs/BENCHMARKS.md, "Where an embedded
/// step's time goes"). A new instance per lookup, as for the pinned one: each actor has its own thread.
/// </summary>
public sealed class OwnThreadDispatcherConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : MessageDispatcherConfigurator(config, prerequisites)
{
    public override MessageDispatcher Dispatcher()
    {
        var id = Config.GetString("id", null) ?? throw new ConfigurationException("A dispatcher's configuration has no id.");
        return new Dispatcher(this, id, Config.GetInt("throughput", 30), Config.GetTimeSpan("throughput-deadline-time", null).Ticks,
            new OwnThreadExecutorFactory(), Config.GetTimeSpan("shutdown-timeout", TimeSpan.FromSeconds(1)));
    }

    private sealed class OwnThreadExecutorFactory : ExecutorServiceFactory
    {
        public override ExecutorService Produce(string id) => new OwnThreadExecutor(id);
    }
}

/// <summary>One background thread that runs what it is given in order, and waits on a monitor (no spinning) when there is nothing.</summary>
public sealed class OwnThreadExecutor : ExecutorService
{
    private readonly Queue<IRunnable> _queue = new();
    private readonly object _lock = new();   // a monitor: Wait and Pulse
    private bool _shutDown;

    public OwnThreadExecutor(string id) : base(id) =>
        new Thread(Run) { IsBackground = true, Name = id }.Start();

    public override void Execute(IRunnable run)
    {
        lock (_lock)
        {
            if (_shutDown) throw new RejectedExecutionException($"The thread of dispatcher {Id} has been shut down.");
            _queue.Enqueue(run);
            if (_queue.Count == 1) Monitor.Pulse(_lock);
        }
    }

    public override void Shutdown()
    {
        lock (_lock)
        {
            _shutDown = true;
            Monitor.PulseAll(_lock);
        }
    }

    private void Run()
    {
        while (true)
        {
            IRunnable next;
            lock (_lock)
            {
                while (_queue.Count == 0 && !_shutDown) Monitor.Wait(_lock);
                if (_queue.Count == 0) return;   // shut down, and everything given has run
                next = _queue.Dequeue();
            }
            next.Run();
        }
    }
}
