// How a worker joins the coordinator, learns the job, and is admitted or turned away.
using MessagePack;
using DistClip.Core;

namespace DistClip.Protocol;

/// <summary>The protocol version this build speaks; a coordinator refuses workers of another.</summary>
public static class ProtocolVersion
{
    public const int Current = 1;
}

/// <summary>Worker → coordinator: a worker actor on <paramref name="Device"/> wants to take part.</summary>
[MessagePackObject]
public sealed record JoinRequest(
    [property: Key(0)] string WorkerName,
    [property: Key(1)] string Device,
    [property: Key(2)] int Protocol) : IWireMessage;

/// <summary>
/// Coordinator → worker: the job; the worker builds its replica and answers with <see cref="RegisterWorker"/>.
/// <paramref name="BulkEndpoint"/> is where a remote worker sends gradients (<c>host:port</c> of the
/// coordinator's bulk channel; null inside one process), and every bulk frame carries <paramref name="BulkToken"/>.
/// <paramref name="SharedMemoryPath"/> names the coordinator's shared parameter segment: a worker that can
/// open it (with the token) is on the coordinator's host and exchanges through shared memory instead.
/// </summary>
[MessagePackObject]
public sealed record JobOffer(
    [property: Key(0)] JobSpec Job,
    [property: Key(1)] string? BulkEndpoint = null,
    [property: Key(2)] long BulkToken = 0,
    [property: Key(3)] string? SharedMemoryPath = null) : IWireMessage;

/// <summary>
/// Worker → coordinator: the replica is built. <paramref name="Signature"/> identifies its architecture
/// (parameter names and shapes) so that a mismatched replica is refused. <paramref name="BulkEndpoint"/>
/// is where a remote coordinator sends it parameters (null inside one process). <paramref name="SharedMemoryPath"/>
/// names the worker's shared gradient segment when it could open the coordinator's (same host).
/// </summary>
[MessagePackObject]
public sealed record RegisterWorker(
    [property: Key(0)] string WorkerName,
    [property: Key(1)] ModelSignature Signature,
    [property: Key(2)] string Device,
    [property: Key(3)] string? BulkEndpoint = null,
    [property: Key(4)] string? SharedMemoryPath = null) : IWireMessage;

/// <summary>
/// Coordinator → worker: admitted at parameter version <paramref name="Version"/>; the parameters
/// follow as a <see cref="ParameterUpdate"/> (chunked when remote) or a <see cref="ParametersShared"/>.
/// <paramref name="SharedMemory"/>: the coordinator mapped the worker's gradient segment, and the two
/// exchange through shared memory from now on.
/// </summary>
[MessagePackObject]
public sealed record WorkerAdmitted(
    [property: Key(0)] long Version,
    [property: Key(1)] bool SharedMemory = false) : IWireMessage;

/// <summary>Coordinator → worker: not admitted, with the reason in one sentence.</summary>
[MessagePackObject]
public sealed record WorkerRefused([property: Key(0)] string Reason) : IWireMessage;

/// <summary>Coordinator → workers: training is over; each worker drops its replica and asks to join the next job.</summary>
[MessagePackObject]
public sealed record TrainingFinished([property: Key(0)] long Steps) : IWireMessage;
