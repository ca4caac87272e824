// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>
/// Coordinator → workers: training is over for them — the job ended, or the coordinator gave up on them while their
/// node was unreachable — so each drops its replica and asks to join again (the next job, or this one anew).
/// </summary>
[MessagePackObject]
public sealed record TrainingFinished([property: Key(0)] long Steps) : IWireMessage;
