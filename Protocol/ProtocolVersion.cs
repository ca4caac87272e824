// The version of the wire protocol; a coordinator refuses workers of another.
namespace DistClip.Protocol;

/// <summary>The protocol version this build speaks; a coordinator refuses workers of another.</summary>
public static class ProtocolVersion
{
    public const int Current = 6;   // 2: join challenge and proof, shared-memory gradient slots; 3: a bulk token per worker, no sender name in bulk frames;
                                    // 4: why a run stopped early in TrainingFinished, the compute and data fingerprints in RegisterWorker;
                                    // 5: a bulk frame carries its range (the offset of its values in the exchange vector);
                                    // 6: the sharded exchange (StepRanges, ShardComputed, ClipDecided, ReplicaStateChunk, ranged bulk kinds, a plan in every frame)
}

