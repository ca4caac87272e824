// The coordinator's end of the data plane: one link per admitted worker, chosen once, owning its fallback.
using Akka.Actor;
using DistClip.Exchange.Bulk;
using DistClip.Protocol;
using DistClip.Exchange.Chunks;

namespace DistClip.Exchange;

/// <summary>
/// How the coordinator reaches each worker with parameters and receives its gradients. The link is chosen
/// once, at admission (<see cref="Admit"/>): shared memory for a worker on this host that could map the
/// segments, the bulk TCP channel for a worker that has one, Akka.Remote chunks for any other remote
/// worker, and messages by reference inside one process. A bulk send that fails falls back on chunks, here.
/// Incoming transfers in any form (<see cref="IDataPlaneMessage"/>) come out of <see cref="Receive"/> as a
/// <see cref="ShardSum"/> attributed to a worker. Every whole transfer is counted in <see cref="ExchangeSettings.Traffic"/>
/// when there is one. Not thread-safe: the coordinator actor is its only caller.
/// </summary>
public sealed class WorkerLinks : IDisposable
{
    /// <param name="PeerEndpoint">Where a remote worker's bulk channel listens (its peers' ranges go there in the sharded exchange); null in one process.</param>
    private sealed record Link(string Worker, LinkKind Kind, string? BulkEndpoint, long BulkToken, string? PeerEndpoint);

    private readonly int _length;
    private readonly long _bytes;                                      // of one whole transfer, for the traffic counts
    private readonly LinkTraffic? _traffic;
    private readonly long _sharedMemoryToken = Random.Shared.NextInt64();   // names and checks this run's shared segments
    private readonly BulkTokens _tokens = new();
    private readonly IActorRef _self;
    private readonly Action<string> _warn;
    private readonly BulkChannel? _bulk;
    private readonly SharedMemoryPeers<IActorRef>? _shared;
    private readonly Dictionary<IActorRef, Link> _links = [];
    private readonly ChunkAssembler<(IActorRef Sender, long Step, int Shard)> _chunks;
    private readonly List<float[]> _heldBuffers = [];                  // bulk receive buffers the reducer may still read

    /// <param name="bulk">Where to open the bulk channel and shared segments; null inside one process.</param>
    /// <param name="length">Exchange vector length of the model.</param>
    /// <param name="self">The coordinator: the sender of what links send, and where bulk arrivals are told.</param>
    /// <param name="info">Told where the bulk channel listens.</param>
    public WorkerLinks(ExchangeSettings? bulk, int length, IActorRef self, Action<string> info, Action<string> warn)
    {
        (_length, _self, _warn) = (length, self, warn);
        (_bytes, _traffic) = ((long)length * sizeof(float), bulk?.Traffic);
        _chunks = new(length);
        if (bulk is null) return;
        _bulk = bulk.Open(length, m => self.Tell(new BulkArrival(m)), warn, _tokens.Accepts);
        info($"Bulk channel listening at {_bulk.Endpoint}");
        if (!bulk.SharedMemory) return;
        try { _shared = new SharedMemoryPeers<IActorRef>(bulk.SharedMemoryDirectory!, _sharedMemoryToken, length); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"No shared memory for workers on this host ({e.Message}); they use the bulk channel");
        }
    }

    /// <summary>The offer <paramref name="worker"/> gets: the job, and where and how to exchange with this coordinator (its own bulk token).</summary>
    public JobOffer Offer(IActorRef worker, JobSpec job) =>
        new(job, _bulk?.Endpoint, _bulk is null ? 0 : _tokens.For(worker), _shared?.ParametersPath, SharedMemoryToken: _shared is null ? 0 : _sharedMemoryToken);

    /// <summary>Chooses the worker's link (see the type's summary) and returns it.</summary>
    public LinkKind Admit(IActorRef worker, RegisterWorker registration)
    {
        string? noSharedMemory = null;
        bool shared = registration.SharedMemoryPath is not null && _shared is not null && _shared.TryAdd(worker, registration.SharedMemoryPath, registration.SharedMemorySlots, out noSharedMemory);
        if (noSharedMemory is not null) _warn($"Worker {registration.WorkerName} uses the bulk channel: its shared segment did not open ({noSharedMemory})");
        var kind = shared ? LinkKind.SharedMemory
            : registration.BulkEndpoint is not null && _bulk is not null ? LinkKind.BulkChannel
            : worker.Path.Address.HasGlobalScope ? LinkKind.Chunks
            : LinkKind.InProcess;
        _links[worker] = new Link(registration.WorkerName, kind, kind == LinkKind.BulkChannel ? registration.BulkEndpoint : null, _bulk is null ? 0 : _tokens.For(worker),
            worker.Path.Address.HasGlobalScope ? registration.BulkEndpoint : null);
        // Frames under its token are accepted from now on: a worker on shared memory sends a shard beyond its slots as a frame too.
        if (registration.BulkEndpoint is not null && _bulk is not null) _tokens.Admit(worker);
        return kind;
    }

    /// <summary>
    /// Forgets a worker that left or was removed: its bulk frames are refused from now on (its shared segment stays
    /// mapped: a result of it may still be in the reducer).
    /// </summary>
    public void Remove(IActorRef worker)
    {
        _links.Remove(worker);
        _tokens.Revoke(worker);
        _shared?.Remove(worker);
    }

    /// <summary>The parameters of <paramref name="version"/> to one worker (at admission, or after it refused a shard).</summary>
    public void SendParameters(IActorRef worker, long version, SpanWriter<float> values)
    {
        if (!_links.TryGetValue(worker, out var link)) return;
        if (link.Kind == LinkKind.SharedMemory)
        {
            _shared!.PublishParameters(version, values);
            worker.Tell(new ParametersShared(version), _self);
            Sent(link, LinkKind.SharedMemory);
        }
        else Send(worker, link, Snapshot(version, values));
    }

    /// <summary>
    /// The sharded exchange's whole state (<paramref name="bundle"/>, after <paramref name="steps"/> steps at
    /// <paramref name="version"/>) to a worker over its bulk channel, under its token (<see cref="Bulk.StatePieces"/>);
    /// false when it has no bulk endpoint or the send failed (the caller then sends it through Akka).
    /// </summary>
    public bool SendState(IActorRef worker, byte[] bundle, long steps, long version, int exchangeLength)
    {
        if (_bulk is null || !_links.TryGetValue(worker, out var link) || link.PeerEndpoint is not { } endpoint) return false;
        foreach (var piece in Bulk.StatePieces.Of(bundle, steps, version, exchangeLength))
            if (!_bulk.TrySend(endpoint, piece with { Token = link.BulkToken }, out var failure))
            {
                _warn($"Bulk channel to {worker.Path} at {endpoint} failed ({failure}); sending the state through Akka instead");
                return false;
            }
        _traffic?.Sent(link.Worker, LinkKind.BulkChannel, bundle.Length);
        return true;
    }

    /// <summary>
    /// The parameters of <paramref name="version"/> to every worker given. Shared memory is written once for
    /// all workers on this host, with no message: the next step's request names the version, and a worker
    /// loads it from the segment then (the segment holds the master's version whenever a request is out).
    /// </summary>
    public void Broadcast(IEnumerable<IActorRef> workers, long version, SpanWriter<float> values)
    {
        var recipients = workers.Where(_links.ContainsKey).ToList();
        var shared = recipients.Where(w => _links[w].Kind == LinkKind.SharedMemory).ToList();
        if (shared.Count > 0) _shared!.PublishParameters(version, values);
        foreach (var worker in shared) Sent(_links[worker], LinkKind.SharedMemory);   // each reads the one segment
        var others = recipients.Where(w => _links[w].Kind != LinkKind.SharedMemory).ToList();
        if (others.Count == 0) return;
        var update = Snapshot(version, values);
        // Bulk sends in parallel: each blocks until its frame is written, and the workers wait for all of them.
        if (others.Count(w => _links[w].Kind == LinkKind.BulkChannel) > 1) Parallel.ForEach(others, w => Send(w, _links[w], update));
        else foreach (var worker in others) Send(worker, _links[worker], update);
    }

    private ParameterUpdate Snapshot(long version, SpanWriter<float> values)
    {
        var flat = GC.AllocateUninitializedArray<float>(_length);  // written in full
        values(flat);
        return new ParameterUpdate(version, flat);
    }

    /// <remarks>Reads no mutable state but the link given: broadcasts call it from several threads.</remarks>
    private void Send(IActorRef worker, Link link, ParameterUpdate update)
    {
        if (link.Kind == LinkKind.BulkChannel)
        {
            if (_bulk!.TrySend(link.BulkEndpoint!, BulkMessage.Of(update, link.BulkToken), out var failure))
            {
                Sent(link, LinkKind.BulkChannel);
                return;
            }
            _warn($"Bulk channel to {worker.Path} at {link.BulkEndpoint} failed ({failure}); sending through Akka instead");
        }
        Chunking.Send(worker, update, _self);
        Sent(link, link.Kind == LinkKind.BulkChannel ? LinkKind.Chunks : link.Kind);
    }

    private void Sent(Link link, LinkKind carried) => _traffic?.Sent(link.Worker, carried, _bytes);

    private void Received(IActorRef worker, LinkKind carried)
    {
        if (_traffic is not null && _links.TryGetValue(worker, out var link)) _traffic.Received(link.Worker, carried, _bytes);
    }

    /// <summary>
    /// A gradient transfer in any of its forms. Returns the shard sum and the worker it is attributed to
    /// once the transfer is whole; null while chunks are missing, or with <paramref name="rejection"/> set
    /// when the message is dropped (another step's chunk, a frame under no admitted worker's token). A bulk frame is
    /// attributed to the worker whose token it carries (the listener bound its connection to that token).
    /// </summary>
    /// <param name="step">The step in flight: chunks of other steps are dropped before they are assembled.</param>
    public (IActorRef Worker, ShardSum Sum)? Receive(IDataPlaneMessage message, IActorRef sender, long step, out string? rejection)
    {
        rejection = null;
        switch (message)
        {
            case ShardGradients g:
                return (sender, g);
            case GradientChunk c when c.Step != step:
                rejection = $"a gradient chunk of step {c.Step} while step {step} is in flight";
                return null;
            case GradientChunk when !_links.ContainsKey(sender):
                rejection = "a gradient chunk from an actor that is not an admitted worker";  // nothing is assembled for strangers
                return null;
            case GradientChunk c:
                var values = _chunks.Add((sender, c.Step, c.Shard), c.ElementCount, c.ChunkCount, c.Offset, c.Data, out rejection);
                if (values is null) return null;
                Received(sender, LinkKind.Chunks);
                return (sender, new ShardSum(c.Step, c.Version, c.Shard, c.SampleCount, c.LossSum, values));
            case BulkArrival { Message: var m }:
                if (m.Kind != BulkKind.Gradients || _tokens.WorkerOf(m.Token) is not { } worker || !_links.ContainsKey(worker))
                {
                    rejection = "a bulk frame that is not the gradients of a worker admitted to this run (under no such worker's token)";
                    return null;
                }
                _heldBuffers.Add(m.Values);  // the reducer may hold it until the lower shards arrive: back once the step is reduced
                Received(worker, LinkKind.BulkChannel);
                return (worker, new ShardSum(m.Step, m.Version, m.Shard, m.SampleCount, m.LossSum, m.Values));
            case ShardGradientsShared r:
                rejection = "this coordinator has no shared memory";
                if (_shared?.Read(sender, r, out rejection) is not { } sum) return null;
                Received(sender, LinkKind.SharedMemory);
                return (sender, sum);
            default:
                rejection = $"{message.GetType().Name} is not a gradient transfer";
                return null;
        }
    }

    /// <summary>
    /// The sharded exchange's plan of one attempt, as <paramref name="recipient"/> gets it: every owner's actor path, bulk
    /// endpoint (remote workers) and the pair tokens both ways (<see cref="BulkTokens.ForPair"/>).
    /// </summary>
    public StepRanges PlanFor(IActorRef recipient, long step, long plan, long version, int[] shardSamples, IReadOnlyList<IActorRef> owners, bool checkReplica = false) =>
        new(step, plan, version, owners.ToList().IndexOf(recipient), shardSamples,
            owners.Select(o => new RangeOwner(o.Path.Address.HasGlobalScope ? o.Path.ToSerializationFormat() : o.Path.ToStringWithoutAddress(),
                _links.TryGetValue(o, out var link) ? link.PeerEndpoint : null, _tokens.ForPair(recipient, o))).ToArray(),
            owners.Select(o => _tokens.ForPair(o, recipient)).ToArray(), checkReplica);

    /// <summary>
    /// Why <paramref name="registration"/>'s worker cannot take part in the sharded exchange (a remote worker without a bulk
    /// channel: its peers could not reach it), or null.
    /// </summary>
    public static string? ShardedRefusal(IActorRef worker, RegisterWorker registration) =>
        worker.Path.Address.HasGlobalScope && registration.BulkEndpoint is null
            ? $"the run uses the sharded exchange, and worker {registration.WorkerName} has no bulk channel its peers could reach"
            : null;

    /// <summary>
    /// A reduced range of the sharded exchange, attributed to its owner: a frame under an admitted worker's token, or by
    /// reference from a worker of this process. Null with <paramref name="rejection"/> for anything else.
    /// </summary>
    public (IActorRef Worker, BulkMessage Range)? ReceiveRange(BulkArrival arrival, IActorRef sender, out string? rejection)
    {
        rejection = null;
        var m = arrival.Message;
        var worker = _tokens.WorkerOf(m.Token)
                     ?? (_links.TryGetValue(sender, out var link) && link.Kind == LinkKind.InProcess ? sender : null);
        if (m.Kind != BulkKind.ReducedRange || worker is null || !_links.ContainsKey(worker))
        {
            rejection = "a bulk frame that is not a reduced range of a worker admitted to this run";
            return null;
        }
        if (_traffic is not null) _traffic.Received(_links[worker].Worker, _bulk is null ? LinkKind.InProcess : LinkKind.BulkChannel, (long)m.Values.Length * sizeof(float));
        return (worker, m);
    }

    /// <summary>Step <paramref name="step"/> is reduced: its receive buffers go back to the channel, its unfinished chunk transfers are dropped.</summary>
    public void StepReduced(long step)
    {
        _chunks.Forget(k => k.Step <= step);
        foreach (var buffer in _heldBuffers) _bulk!.Buffers.Return(buffer);
        _heldBuffers.Clear();
    }

    public void Dispose()
    {
        _bulk?.Dispose();
        _shared?.Dispose();
    }
}
