// What a worker must match to join without changing the run's bits: the cluster's compute and its copy of the data.
using DistClip.Core;
using DistClip.Protocol;

namespace DistClip.Coordinator;

/// <summary>
/// The cluster's fingerprint and the admission check against it. The CPU side is the coordinator's own (it does the
/// reduction and the norms with its threads and kernels); the device side (cpu or cuda, the accelerator) is that of the
/// first worker admitted (the caller keeps it: this object is the plan's, immutable), since the coordinator never
/// computes a shard. The data side is the hash of the job's <see cref="JobSpec.DataChallenge"/> on the coordinator's
/// copy. A worker that sends no fingerprint (a test's probe) is not checked. Free of actors, so tests drive it directly.
/// </summary>
/// <param name="coordinator">This process's compute.</param>
/// <param name="dataset">The training split's name, for refusals.</param>
/// <param name="dataCount">Samples in the coordinator's copy.</param>
/// <param name="dataHash">The hash of the challenge samples on the coordinator's copy; null when no challenge is asked.</param>
/// <param name="allowMixedCompute">Admit a worker whose compute differs (with a warning) instead of refusing it.</param>
public sealed class ClusterFingerprint(ComputeFingerprint coordinator, string dataset, int dataCount, string? dataHash, bool allowMixedCompute = false)
{
    public ComputeFingerprint Coordinator => coordinator;
    public bool AllowMixedCompute => allowMixedCompute;

    /// <summary>The compute a worker is compared with: the coordinator's, on the devices of <paramref name="firstWorker"/> (or its own, being the first).</summary>
    public ComputeFingerprint Reference(ComputeFingerprint worker, ComputeFingerprint? firstWorker)
    {
        var devices = firstWorker ?? worker;
        return coordinator with { Device = devices.Device, Accelerator = devices.Accelerator };
    }

    /// <summary>Why <paramref name="register"/> must be refused (its data differs; or its compute, unless mixed compute is allowed), or null.</summary>
    /// <param name="firstWorker">The compute of the first worker admitted, whose devices are the cluster's; null before one is.</param>
    public string? Refusal(RegisterWorker register, ComputeFingerprint? firstWorker)
    {
        if (dataHash is not null && register.DataHash is not null && (register.DataCount != dataCount || register.DataHash != dataHash))
            return $"worker {register.WorkerName}: its copy of {dataset} is not the coordinator's (" +
                   (register.DataCount != dataCount ? $"{register.DataCount} samples, the coordinator's has {dataCount}"
                                                    : $"the same number of samples, {dataCount}, but the samples it was asked to hash differ in images or labels") +
                   "); give every node the same data";
        if (allowMixedCompute || MixedCompute(register, firstWorker) is not { } differences) return null;
        return $"worker {register.WorkerName}: {differences} (the run would no longer be bit-reproducible; --allow-mixed-compute on the coordinator admits it)";
    }

    /// <summary>How the worker's compute differs from the cluster's, as one phrase, or null when it does not (or it sent none).</summary>
    public string? MixedCompute(RegisterWorker register, ComputeFingerprint? firstWorker) =>
        register.Compute is { } compute && ComputeFingerprint.Differences(compute, Reference(compute, firstWorker)) is { Count: > 0 } d ? string.Join("; ", d) : null;
}
