// What a worker replica needs to know: its name, model, device, threads and micro-batch size.
using DistClip.Models.Zoo;

namespace DistClip.Worker;

/// <summary>Configuration of one worker actor.</summary>
/// <param name="Name">Unique worker name for logs (for example <c>worker-0</c>).</param>
/// <param name="Model">The model to replicate; must match the coordinator's.</param>
/// <param name="Device">Torch device string: <c>cpu</c> or <c>cuda:i</c>.</param>
/// <param name="Threads">Intra-op threads for this worker's tensor work.</param>
/// <param name="MicroBatch">Largest number of samples in one forward/backward pass; larger shards are accumulated.</param>
public sealed record WorkerSettings(string Name, ModelSpec Model, string Device, int Threads, int MicroBatch);
