// A message of joining a run (docs/ARCHITECTURE.md, "Joining a run").
using MessagePack;

namespace DistClip.Protocol;

/// <summary>Coordinator → workers: training is over; each worker drops its replica and asks to join the next job.</summary>
[MessagePackObject]
public sealed record TrainingFinished([property: Key(0)] long Steps) : IWireMessage;
