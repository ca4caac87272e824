// A coordinator tells its JobHost that its job is over.
namespace DistClip.Coordinator;

/// <summary>A coordinator tells its parent that its job is over (sent before the workers hear it).</summary>
public sealed class JobFinished
{
    public static JobFinished Instance { get; } = new();
    private JobFinished() { }
}
