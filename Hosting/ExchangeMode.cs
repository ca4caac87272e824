// Which exchange a run's gradients travel by.
namespace DistClip.Hosting;

/// <summary>How a run's gradients travel (docs/ARCHITECTURE.md). Both give the same bits; the result does not depend on it.</summary>
public enum ExchangeMode
{
    /// <summary>Every shard sum to the coordinator, which reduces, clips, steps and sends the parameters back: 2·N·P bytes a step on its link.</summary>
    Central,
    /// <summary>Each worker reduces one range and the workers all-gather peer to peer; the coordinator gets the reduced gradient, decides the clip and tells the workers, which step replicas of their own.</summary>
    Sharded,
}
