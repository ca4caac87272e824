// A worker's end of the data plane: how it gets its coordinator's parameters and sends it gradient sums.
using Akka.Actor;
using DistClip.Exchange.Bulk;
using DistClip.Protocol;
using DistClip.Core;
using DistClip.Exchange.Chunks;

namespace DistClip.Exchange;

/// <summary>Writes a shard's gradient sum into <paramref name="gradientSum"/> (an exchange vector) and returns its loss sum.</summary>
public delegate double GradientWriter(Span<float> gradientSum);

/// <summary>
/// The worker's link to its coordinator, opened when the job is offered (<see cref="Open"/>): shared
/// memory when the coordinator is on this host and its segment opens here, else the bulk TCP channel when
/// both ends have one, else messages (chunks between processes, by reference inside one). A bulk send that
/// fails falls back on chunks, here. Parameter transfers in any form come out of <see cref="Load"/> as a
/// version loaded into the replica. Every whole transfer is counted in <see cref="ExchangeSettings.Traffic"/> when there is
/// one. Not thread-safe: the worker actor is its only caller.
/// </summary>
public sealed class CoordinatorLink : IDisposable
{
    private readonly JobOffer _offer;
    private readonly string _workerName;
    private readonly int _length;
    private readonly LinkTraffic? _traffic;
    private readonly IActorRef _self;
    private readonly Action<string> _warn;
    private readonly BulkChannel? _bulk;
    private SharedMemoryLink? _shared;
    private bool _sharedAdmitted;     // the coordinator mapped our gradient segment
    private readonly ChunkAssembler<long> _parameterChunks;

    private CoordinatorLink(JobOffer offer, string workerName, int length, IActorRef self, Action<string> warn, BulkChannel? bulk, SharedMemoryLink? shared,
        LinkTraffic? traffic)
    {
        (_offer, _workerName, _length, _self, _warn, _bulk, _shared, _traffic) = (offer, workerName, length, self, warn, bulk, shared, traffic);
        _parameterChunks = new(length);
    }

    /// <summary>Opens what the offer and this node allow: a bulk channel, shared segments (see the type's summary).</summary>
    /// <param name="bulk">This node's bulk settings; null inside one process.</param>
    /// <param name="info">Told why shared memory is not used, when the coordinator offered it.</param>
    public static CoordinatorLink Open(JobOffer offer, ExchangeSettings? bulk, string workerName, int length, IActorRef self, Action<string> info, Action<string> warn)
    {
        // A sharded job's peers send under pair tokens whose plan may not have reached this worker yet: its listener takes
        // every frame, and the worker checks each range against its plan (PeerLinks); with --tls only the cluster's nodes connect.
        bool sharded = offer.Job.Sharded is not null;
        var channel = bulk is not null && offer.BulkEndpoint is not null
            ? bulk.Open(length, m => self.Tell(new BulkArrival(m)), warn, token => sharded || token == offer.BulkToken) : null;
        SharedMemoryLink? shared = null;
        if (bulk is { SharedMemory: true } && offer.SharedMemoryPath is not null)
        {
            shared = SharedMemoryLink.TryOpen(offer, bulk.SharedMemoryDirectory!, workerName, length, out var why);
            if (why is not null) info($"Worker {workerName} exchanges through the bulk channel: no shared memory with the coordinator ({why})");
        }
        return new CoordinatorLink(offer, workerName, length, self, warn, channel, shared, bulk?.Traffic);
    }

    /// <summary>For <see cref="RegisterWorker.BulkEndpoint"/>.</summary>
    public string? BulkEndpoint => _bulk?.Endpoint;

    /// <summary>This worker's bulk channel (its listener and its outgoing connections); null inside one process.</summary>
    public BulkChannel? Bulk => _bulk;

    /// <summary>Where the coordinator's bulk channel listens and this worker's token on it; null inside one process.</summary>
    public (string Endpoint, long Token)? CoordinatorBulk => _bulk is not null && _offer.BulkEndpoint is { } e ? (e, _offer.BulkToken) : null;

    /// <summary>Whether a frame on this worker's bulk channel is its coordinator's: under the token of its offer.</summary>
    public bool IsFromCoordinator(BulkMessage frame) => _bulk is not null && frame.Token == _offer.BulkToken;

    /// <summary>For <see cref="RegisterWorker.SharedMemoryPath"/>.</summary>
    public string? SharedMemoryPath => _shared?.GradientsPath;

    /// <summary>For <see cref="RegisterWorker.SharedMemorySlots"/>.</summary>
    public int SharedMemorySlots => _shared?.Slots ?? 0;

    /// <summary>
    /// Whether parameters come on the bulk channel, apart from the requests (Akka.Remote): a request may then arrive before
    /// the parameters of its version. Through shared memory they are there with the request; as messages, before it.
    /// </summary>
    public bool ParametersTravelApart => _bulk is not null && _offer.BulkEndpoint is not null && !_sharedAdmitted;

    /// <summary>The coordinator admitted this worker, exchanging through shared memory or not.</summary>
    public void OnAdmitted(bool sharedMemory)
    {
        if (_shared is null) return;
        if (sharedMemory) { _shared.OnAdmitted(); _sharedAdmitted = true; }
        else { _shared.Dispose(); _shared = null; }
    }

    /// <summary>
    /// A parameter transfer in any of its forms: loads it into <paramref name="replica"/> when it is newer
    /// than <paramref name="current"/> and whole, and returns the version loaded; null otherwise.
    /// </summary>
    public long? Load(IDataPlaneMessage message, FlatParameters replica, long current)
    {
        switch (message)
        {
            case ParameterUpdate u:
                return LoadValues(u.Version, u.Values, replica, current);
            case ParameterChunk c when c.Version > current:
                var values = _parameterChunks.Add(c.Version, c.ElementCount, c.ChunkCount, c.Offset, c.Data, out var rejection);
                if (rejection is not null) _warn($"Worker {_workerName} dropped a parameter chunk: {rejection}");
                if (values is null) return null;
                Received(LinkKind.Chunks);
                return LoadValues(c.Version, values, replica, current);
            case BulkArrival { Message: var m } when m.Kind is BulkKind.ShardRange or BulkKind.ReducedRange:
                return null;   // the sharded step's (PeerLinks)
            case BulkArrival { Message: var m }:
                if (m.Token != _offer.BulkToken || m.Kind != BulkKind.Parameters)
                {
                    _warn($"Worker {_workerName} dropped a bulk frame that is not its coordinator's parameters");
                    return null;
                }
                Received(LinkKind.BulkChannel);
                var loaded = LoadValues(m.Version, m.Values, replica, current);
                _bulk!.Buffers.Return(m.Values);  // copied into the replica
                return loaded;
            case ParametersShared s when s.Version > current:
                if (TryLoad(s.Version, replica)) return s.Version;
                _warn($"Worker {_workerName}: the shared parameters moved past version {s.Version} while loading; waiting for the next");
                return null;
            default:
                return null;
        }
    }

    private long? LoadValues(long version, ReadOnlySpan<float> values, FlatParameters replica, long current)
    {
        if (version <= current) return null;  // a late or duplicate broadcast
        replica.WriteValues(values);
        _parameterChunks.Forget(v => v <= version);
        return version;
    }

    /// <summary>
    /// Loads version <paramref name="version"/> from the coordinator's shared segment, which holds it once
    /// a request of that version is out; false without shared memory or when the segment has moved on.
    /// </summary>
    public bool TryLoad(long version, FlatParameters replica)
    {
        if (!_sharedAdmitted || !_shared!.TryLoad(version, replica)) return false;
        Received(LinkKind.SharedMemory);
        return true;
    }

    private long Bytes => (long)_length * sizeof(float);

    private void Received(LinkKind carried) => _traffic?.Received(_workerName, carried, Bytes);

    private void Sent(LinkKind carried) => _traffic?.Sent(_workerName, carried, Bytes);

    /// <summary>
    /// Computes the shard of <paramref name="request"/> with <paramref name="compute"/> into this link's
    /// buffer and sends the result: into a shared gradient slot (each once per step; a shard of the step beyond
    /// the slots travels whole), or as a bulk frame, or as a message (chunks between processes).
    /// </summary>
    public void SendGradients(IActorRef coordinator, ComputeGradients request, GradientWriter compute)
    {
        int samples = request.SampleIndices.Length;
        if (_sharedAdmitted && _shared!.TryClaimFor(request.Step) is var slot and >= 0)
        {
            double loss = compute(_shared.Gradients(slot));
            _shared.PublishGradients(request.Step, slot);
            coordinator.Tell(new ShardGradientsShared(request.Step, request.Version, request.Shard, samples, loss, slot), _self);
            Sent(LinkKind.SharedMemory);
            return;
        }
        var sum = GC.AllocateUninitializedArray<float>(_length);  // written in full
        var gradients = new ShardGradients(request.Step, request.Version, request.Shard, samples, compute(sum), sum);
        if (_bulk is not null && _offer.BulkEndpoint is { } endpoint)
        {
            if (_bulk.TrySend(endpoint, BulkMessage.Of(gradients, _offer.BulkToken), out var failure))
            {
                Sent(LinkKind.BulkChannel);
                return;
            }
            _warn($"Worker {_workerName}: bulk channel to {endpoint} failed ({failure}); sending through Akka instead");
        }
        Chunking.Send(coordinator, gradients, _self);
        Sent(LinkKind.Chunks);
    }

    public void Dispose()
    {
        _bulk?.Dispose();
        _shared?.Dispose();
    }
}
