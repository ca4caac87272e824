// How a worker's gradients and parameters travel: chosen once, when the coordinator admits it.
namespace DistClip.Exchange;

/// <summary>How a worker's gradients and parameters travel.</summary>
public enum LinkKind
{
    /// <summary>By reference, inside one process.</summary>
    InProcess,
    /// <summary>Through segments in /dev/shm both processes map (the worker is on the coordinator's host).</summary>
    SharedMemory,
    /// <summary>As frames on the bulk TCP channel.</summary>
    BulkChannel,
    /// <summary>As chunks through Akka.Remote (neither end has a bulk channel).</summary>
    Chunks,
}
