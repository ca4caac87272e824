// Whether a node is alive (its actor system answers) and ready (a coordinator that accepts workers, a worker that has joined one).
using Akka.Actor;

namespace DistClip.Hosting.Metrics;

/// <summary>
/// What <c>/healthz</c> and <c>/readyz</c> answer. <b>Alive</b>: the node's actor system answers an <see cref="Identify"/> at its
/// user guardian within <see cref="AnswerWithin"/> — or the node holds none at the moment, on purpose (before it starts one,
/// between a worker's memberships, after it left the cluster while the run finishes): the process is up and answering.
/// <b>Ready</b>: set by the node — a coordinator once its member is up in the cluster (workers can join it), a worker while
/// one of its actors is admitted to a job; never while the node holds no actor system.
/// </summary>
public sealed class HealthState
{
    /// <summary>How long the actor system has to answer before the node counts as not alive.</summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(2);

    private volatile ActorSystem? _system;
    private volatile bool _ready;

    public bool Ready => _ready;

    /// <summary>From now on, <paramref name="system"/> is the node's; not ready until <see cref="SetReady"/> says so.</summary>
    public void Follow(ActorSystem system)
    {
        _ready = false;
        _system = system;
    }

    public void SetReady(bool ready) => _ready = ready && _system is not null;

    /// <summary>The node is about to stop <paramref name="system"/> on purpose: not ready, and alive without it.</summary>
    public void Release(ActorSystem system)
    {
        if (_system != system) return;
        _ready = false;
        _system = null;
    }

    /// <summary>Whether the node is alive (see the type's summary); at most <see cref="AnswerWithin"/>.</summary>
    public async Task<bool> AliveAsync()
    {
        if (_system is not { } system) return true;
        if (system.WhenTerminated.IsCompleted) return false;
        try
        {
            await system.ActorSelection("/user").Ask<ActorIdentity>(new Identify(null), AnswerWithin).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
        {
            return false;   // no answer in time, or the system is shutting down
        }
    }
}
