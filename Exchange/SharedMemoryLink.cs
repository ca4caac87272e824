// A worker's shared-memory exchange with a coordinator on its own host.
using DistClip.Exchange.SharedMemory;
using DistClip.Protocol;
using DistClip.Core;

namespace DistClip.Exchange;

/// <summary>
/// The worker's two segments when its coordinator is on the same host: the coordinator's parameter
/// segment (read) and the worker's own gradient segment (written). Gradients go into the segment at
/// most once per step (<see cref="TryClaimFor"/>): the coordinator may still hold an earlier result of
/// the step unreduced, so a second shard of the same step travels in a message instead.
/// </summary>
public sealed class SharedMemoryLink : IDisposable
{
    private readonly SharedSegment _parameters;
    private readonly SharedSegment _gradients;
    private long _claimedStep = -1;

    private SharedMemoryLink(SharedSegment parameters, SharedSegment gradients) => (_parameters, _gradients) = (parameters, gradients);

    /// <summary>The worker's gradient segment, for <see cref="RegisterWorker.SharedMemoryPath"/>.</summary>
    public string GradientsPath => _gradients.Path;

    /// <summary>
    /// Opens the coordinator's parameter segment named in <paramref name="offer"/> and creates this worker's
    /// gradient segment in <paramref name="directory"/>; null when the coordinator offers none or its segment
    /// cannot be opened here (another host, or another run), with the reason in <paramref name="why"/>.
    /// </summary>
    public static SharedMemoryLink? TryOpen(JobOffer offer, string directory, string workerName, int length, out string? why)
    {
        why = null;
        if (offer.SharedMemoryPath is null) return null;
        if (SharedSegment.TryOpen(offer.SharedMemoryPath, offer.BulkToken, length, out why) is not { } parameters) return null;
        var name = $"{offer.BulkToken:x}-{string.Concat(workerName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'))}-gradients";
        try { return new SharedMemoryLink(parameters, SharedSegment.Create(directory, name, offer.BulkToken, length)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            parameters.Dispose();
            why = e.Message;
            return null;
        }
    }

    /// <summary>The coordinator has mapped the gradient segment: its name is no longer needed (nothing is left behind on a crash).</summary>
    public void OnAdmitted() => _gradients.Unlink();

    /// <summary>Whether this step's result may go into the gradient segment; true once per step.</summary>
    public bool TryClaimFor(long step)
    {
        if (step == _claimedStep) return false;
        _claimedStep = step;
        _gradients.BeginWrite();
        return true;
    }

    /// <summary>Where the claimed step's gradient sum is written before <see cref="PublishGradients"/>.</summary>
    public Span<float> Gradients => _gradients.Values;

    public void PublishGradients(long step) => _gradients.Publish(step);

    /// <summary>Copies the parameters of <paramref name="version"/> into the replica; false if the segment no longer holds them.</summary>
    public bool TryLoad(long version, FlatParameters replica) =>
        _parameters.TryRead(version, static (values, state) => ((FlatParameters)state!).WriteValues(values), replica);

    public void Dispose()
    {
        _gradients.Unlink();
        _gradients.Dispose();
        _parameters.Dispose();
    }
}
