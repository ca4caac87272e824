// Who may be told about the run: workers that proved they know the cluster's join secret.
using DistClip.Protocol;

namespace DistClip.Coordinator;

/// <summary>
/// The coordinator's admission check before anything about the run leaves it. Without a secret every worker of the
/// right protocol passes. With one, a join request gets a <see cref="JoinChallenge"/> (a fresh nonce, remembered
/// for that sender only and used once), and only a sender whose <see cref="JoinProof"/> verifies may receive the
/// job offer and register. Generic in the worker handle so that tests drive it without actors.
/// </summary>
public sealed class JoinGate<TWorker>(JoinSecret? secret) where TWorker : notnull
{
    /// <summary>Challenges outstanding at once, at most: a flood of join requests cannot grow this without bound.</summary>
    public const int MaxPending = 1024;

    private readonly Dictionary<TWorker, byte[]> _pending = [];
    private readonly Queue<TWorker> _order = new();
    private readonly HashSet<TWorker> _proved = [];

    /// <summary>The challenge for a join request, or null when the cluster has no secret (the offer goes out at once).</summary>
    public JoinChallenge? Challenge(TWorker worker)
    {
        if (secret is null) return null;
        while (_pending.Count >= MaxPending && _order.TryDequeue(out var oldest)) _pending.Remove(oldest);
        var nonce = JoinSecret.NewNonce();
        if (_pending.TryAdd(worker, nonce)) _order.Enqueue(worker);
        else _pending[worker] = nonce;
        return new JoinChallenge(nonce);
    }

    /// <summary>Checks a proof against the sender's outstanding nonce (which it uses up); why it fails, or null when it holds.</summary>
    public string? Check(TWorker worker, JoinProof proof)
    {
        if (secret is null) return null;
        if (!_pending.Remove(worker, out var nonce)) return "a join proof without a challenge";
        if (!secret.Verifies(nonce, proof.WorkerName, proof.Mac)) return $"worker {proof.WorkerName} does not know the cluster's join secret";
        _proved.Add(worker);
        return null;
    }

    /// <summary>Whether <paramref name="worker"/> may register: it proved the secret, or there is none.</summary>
    public bool Admits(TWorker worker) => secret is null || _proved.Contains(worker);

    /// <summary>Forgets a worker that left.</summary>
    public void Forget(TWorker worker)
    {
        _proved.Remove(worker);
        _pending.Remove(worker);
    }
}
