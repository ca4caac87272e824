// A local request to a JobHost: run this coordinator as the current job.
using Akka.Actor;

namespace DistClip.Coordinator;

/// <summary>Local request to a <see cref="JobHost"/>: run a coordinator built from these props as the current job.</summary>
public sealed record RunJob(Props Coordinator);
