// The coordinator's shared-memory exchange with the workers on its own host.
using DistClip.Exchange.SharedMemory;
using DistClip.Protocol;

namespace DistClip.Exchange;

/// <summary>
/// One parameter segment that every worker on the coordinator's host reads, and each such worker's
/// gradient segment, which the reducer reads in place. What TCP would copy twice through the kernel
/// (the worker's gradients up, the parameters down to each worker) is written once into memory both
/// processes map. A worker's segment stays mapped until the coordinator stops, so that a result the
/// reducer still holds stays readable after its worker has gone.
/// </summary>
public sealed class SharedMemoryPeers<TWorker> : IDisposable where TWorker : notnull
{
    private readonly SharedSegment _parameters;
    private readonly long _token;
    private readonly Dictionary<TWorker, SharedSegment[]> _gradientsOf = [];
    private readonly List<SharedSegment> _all = [];

    /// <summary>Creates the parameter segment in <paramref name="directory"/> for a model of <paramref name="length"/> exchanged values.</summary>
    public SharedMemoryPeers(string directory, long token, int length)
    {
        _token = token;
        _parameters = SharedSegment.Create(directory, $"{token:x}-parameters", token, length);
    }

    /// <summary>For <see cref="JobOffer.SharedMemoryPath"/>.</summary>
    public string ParametersPath => _parameters.Path;

    /// <summary>Maps a registering worker's <paramref name="slots"/> gradient segments; false (with the reason) if it cannot.</summary>
    public bool TryAdd(TWorker worker, string gradientsPath, int slots, out string? why)
    {
        why = slots is >= 1 and <= SharedMemoryLink.MaxSlots ? null : $"{slots} gradient slots (1 to {SharedMemoryLink.MaxSlots} expected)";
        var segments = new List<SharedSegment>();
        for (int slot = 0; why is null && slot < slots; slot++)
            if (SharedSegment.TryOpen(SharedMemoryLink.SlotPath(gradientsPath, slot), _token, _parameters.Length, out why) is { } segment) segments.Add(segment);
        if (why is not null)
        {
            foreach (var segment in segments) segment.Dispose();
            return false;
        }
        _all.AddRange(segments);
        _gradientsOf[worker] = segments.ToArray();
        return true;
    }

    public bool Has(TWorker worker) => _gradientsOf.ContainsKey(worker);

    /// <summary>Stops exchanging with a worker that left (its segment stays mapped: see the type's summary).</summary>
    public void Remove(TWorker worker) => _gradientsOf.Remove(worker);

    /// <summary>Makes the parameter segment hold version <paramref name="version"/>, writing it with <paramref name="write"/> unless it already does.</summary>
    public void PublishParameters(long version, SpanWriter<float> write)
    {
        if (_parameters.Holds(version)) return;
        _parameters.BeginWrite();
        write(_parameters.Values);
        _parameters.Publish(version);
    }

    /// <summary>A shard result whose gradient sum is read in place from the worker's segment, or null with the reason it is dropped.</summary>
    public ShardSum? Read(TWorker worker, ShardGradientsShared result, out string? rejection)
    {
        rejection = !_gradientsOf.TryGetValue(worker, out var slots) ? "a shared-memory result from a worker without a shared segment"
            : (uint)result.Slot >= (uint)slots.Length ? $"the worker has no gradient slot {result.Slot}"
            : !slots[result.Slot].Holds(result.Step) ? $"the worker's gradient slot {result.Slot} does not hold step {result.Step}"
            : null;
        if (rejection is not null) return null;
        return new ShardSum(result.Step, result.Version, result.Shard, result.SampleCount, result.LossSum, slots![result.Slot].Memory);
    }

    public void Dispose()
    {
        foreach (var segment in _all) segment.Dispose();
        _parameters.Unlink();
        _parameters.Dispose();
    }
}
