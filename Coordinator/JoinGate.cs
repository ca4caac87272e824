// Who may be told about the run: workers that proved they know the cluster's join secret.
using DistClip.Protocol;

namespace DistClip.Coordinator;

/// <summary>
/// The coordinator's admission check before anything about the run leaves it. Without a secret every worker of the
/// right protocol passes. With one, a join request gets a <see cref="JoinChallenge"/> (a fresh nonce, remembered
/// for that sender only and used once), and only a sender whose <see cref="JoinProof"/> verifies for its own address
/// may receive the job offer, and register under the name it proved. A proof without an outstanding nonce (one pushed
/// out by a flood of requests) is answered with a new challenge, not a refusal. Generic in the worker handle so that
/// tests drive it without actors.
/// </summary>
public sealed class JoinGate<TWorker>(JoinSecret? secret) where TWorker : notnull
{
    /// <summary>Challenges outstanding at once, at most: a flood of join requests cannot grow this without bound.</summary>
    public const int MaxPending = 1024;

    private readonly Dictionary<TWorker, byte[]> _pending = [];
    private readonly Queue<TWorker> _order = new();
    private readonly Dictionary<TWorker, string> _proved = [];   // the name each proved
    private readonly Dictionary<TWorker, byte[]> _workerNonce = [];   // what each asked the coordinator to prove

    /// <summary>The challenge for a join request, or null when the cluster has no secret (the offer goes out at once).</summary>
    /// <param name="workerNonce">The worker's own nonce, over which the coordinator's offer proves the secret in turn.</param>
    public JoinChallenge? Challenge(TWorker worker, byte[]? workerNonce = null)
    {
        if (secret is null) return null;
        if (workerNonce is { Length: > 0 and <= 64 }) _workerNonce[worker] = workerNonce;
        while (_pending.Count >= MaxPending && _order.TryDequeue(out var oldest)) _pending.Remove(oldest);
        while (_order.Count > _pending.Count && _order.TryPeek(out var head) && !_pending.ContainsKey(head)) _order.Dequeue();  // answered ones
        var nonce = JoinSecret.NewNonce();
        if (_pending.TryAdd(worker, nonce)) _order.Enqueue(worker);
        else _pending[worker] = nonce;
        return new JoinChallenge(nonce);
    }

    /// <summary>Whether <paramref name="worker"/> has a challenge outstanding (else a proof from it is answered with a new one).</summary>
    public bool Challenged(TWorker worker) => _pending.ContainsKey(worker);

    /// <summary>
    /// Checks a proof from <paramref name="worker"/>, whose actor address is <paramref name="address"/>, against its
    /// outstanding nonce (which it uses up); why it fails, or null when it holds.
    /// </summary>
    public string? Check(TWorker worker, string address, JoinProof proof)
    {
        if (secret is null) return null;
        if (!_pending.Remove(worker, out var nonce)) return "a join proof without a challenge";
        if (!secret.Verifies(nonce, proof.WorkerName, address, proof.Mac)) return $"worker {proof.WorkerName} does not know the cluster's join secret";
        _proved[worker] = proof.WorkerName;
        return null;
    }

    /// <summary>Whether <paramref name="worker"/> may register as <paramref name="name"/>: it proved the secret under that name, or there is none.</summary>
    public bool Admits(TWorker worker, string name) => secret is null || _proved.TryGetValue(worker, out var proved) && proved == name;

    /// <summary>The coordinator's proof of the secret for <paramref name="worker"/>'s nonce, given from <paramref name="coordinatorAddress"/>; null without a secret or a nonce.</summary>
    public byte[]? CoordinatorProof(TWorker worker, string coordinatorAddress) =>
        secret is not null && _workerNonce.Remove(worker, out var nonce) ? secret.Proof(nonce, JoinSecret.CoordinatorName, coordinatorAddress) : null;

    /// <summary>Forgets a worker that left.</summary>
    public void Forget(TWorker worker)
    {
        _proved.Remove(worker);
        _pending.Remove(worker);
        _workerNonce.Remove(worker);
    }
}
