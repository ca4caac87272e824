// How a worker joins the coordinator and how it is turned away.
namespace DistClip.Protocol;

/// <summary>
/// Worker → coordinator: a worker replica is ready. <paramref name="Signature"/> identifies the model
/// architecture (parameter names and shapes) so that a mismatched replica is refused.
/// </summary>
public sealed record RegisterWorker(string WorkerName, ModelSignature Signature, string Device);

/// <summary>Coordinator → worker: admitted; load <paramref name="Parameters"/> before the next step.</summary>
public sealed record WorkerAdmitted(ParameterUpdate Parameters);

/// <summary>Coordinator → worker: not admitted, with the reason in one sentence.</summary>
public sealed record WorkerRefused(string Reason);
