// A worker's shared-memory exchange with a coordinator on its own host.
using DistClip.Exchange.SharedMemory;
using DistClip.Protocol;
using DistClip.Core;

namespace DistClip.Exchange;

/// <summary>
/// The worker's segments when its coordinator is on the same host: the coordinator's parameter segment (read)
/// and the worker's own gradient segments (written), <see cref="MaxSlots"/> of them when /dev/shm has room, else
/// fewer: a worker may compute several shards of a step, and each slot is written at most once per step
/// (<see cref="TryClaimFor"/>) because the coordinator may still hold an earlier result of the step unreduced; a
/// shard beyond the slots travels in a message instead.
/// </summary>
public sealed class SharedMemoryLink : IDisposable
{
    /// <summary>Gradient slots a worker asks for: enough for two shards a step (one worker lost of two, or twice as many shards as workers).</summary>
    public const int MaxSlots = 2;

    private readonly SharedSegment _parameters;
    private readonly SharedSegment[] _gradients;
    private long _claimedStep = -1;
    private int _claimed;

    private SharedMemoryLink(SharedSegment parameters, SharedSegment[] gradients) => (_parameters, _gradients) = (parameters, gradients);

    /// <summary>The worker's first gradient segment, for <see cref="RegisterWorker.SharedMemoryPath"/>.</summary>
    public string GradientsPath => _gradients[0].Path;

    /// <summary>How many gradient segments the worker has, for <see cref="RegisterWorker.SharedMemorySlots"/>.</summary>
    public int Slots => _gradients.Length;

    /// <summary>The path of gradient slot <paramref name="slot"/>, given the first one's.</summary>
    public static string SlotPath(string firstPath, int slot) => slot == 0 ? firstPath : $"{firstPath}-{slot}";

    /// <summary>
    /// Opens the coordinator's parameter segment named in <paramref name="offer"/> and creates this worker's
    /// gradient segments in <paramref name="directory"/>; null when the coordinator offers none or its segment
    /// cannot be opened here (another host, or another run), or not even one gradient segment fits, with the reason in <paramref name="why"/>.
    /// </summary>
    public static SharedMemoryLink? TryOpen(JobOffer offer, string directory, string workerName, int length, out string? why)
    {
        why = null;
        if (offer.SharedMemoryPath is null) return null;
        if (SharedSegment.TryOpen(offer.SharedMemoryPath, offer.SharedMemoryToken, length, out why) is not { } parameters) return null;
        var name = $"{offer.SharedMemoryToken:x}-{string.Concat(workerName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'))}-gradients";
        var gradients = new List<SharedSegment>();
        for (int slot = 0; slot < MaxSlots; slot++)
        {
            try { gradients.Add(SharedSegment.Create(directory, SlotPath(name, slot), offer.SharedMemoryToken, length)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (slot > 0) break;  // fewer slots: later shards of a step travel in messages
                parameters.Dispose();
                why = e.Message;
                return null;
            }
        }
        return new SharedMemoryLink(parameters, gradients.ToArray());
    }

    /// <summary>The coordinator has mapped the gradient segments: their names are no longer needed (nothing is left behind on a crash).</summary>
    public void OnAdmitted()
    {
        foreach (var segment in _gradients) segment.Unlink();
    }

    /// <summary>The slot this step's next result may go into, or -1 when every slot holds a result of the step.</summary>
    public int TryClaimFor(long step)
    {
        if (step != _claimedStep) (_claimedStep, _claimed) = (step, 0);
        if (_claimed == _gradients.Length) return -1;
        _gradients[_claimed].BeginWrite();
        return _claimed++;
    }

    /// <summary>Where a claimed slot's gradient sum is written before <see cref="PublishGradients"/>.</summary>
    public Span<float> Gradients(int slot) => _gradients[slot].Values;

    public void PublishGradients(long step, int slot) => _gradients[slot].Publish(step);

    /// <summary>Copies the parameters of <paramref name="version"/> into the replica; false if the segment no longer holds them.</summary>
    public bool TryLoad(long version, FlatParameters replica) =>
        _parameters.TryRead(version, static (values, state) => ((FlatParameters)state!).WriteValues(values), replica);

    public void Dispose()
    {
        foreach (var segment in _gradients)
        {
            segment.Unlink();
            segment.Dispose();
        }
        _parameters.Dispose();
    }
}
