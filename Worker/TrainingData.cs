// Loads a job's training split on a worker's node, once per process however many workers share it.
using System.Collections.Concurrent;
using DistClip.Models.Data;
using DistClip.Protocol;

namespace DistClip.Worker;

/// <summary>
/// The training split a job names, read from this node's own copy (<paramref name="dataDir"/>, or the
/// data set's default location) and shared read-only by the worker actors of the process.
/// </summary>
public sealed class TrainingData(string? dataDir)
{
    private readonly ConcurrentDictionary<(string, int, int?), Lazy<IImageDataset>> _loaded = new();

    public IImageDataset For(JobSpec job) =>
        _loaded.GetOrAdd((job.Dataset, job.DataSeed, job.TrainSamples), _ => new Lazy<IImageDataset>(() => Load(job))).Value;

    private IImageDataset Load(JobSpec job)
    {
        var train = DatasetCatalog.Load(job.Dataset, Split.Train, dataDir, job.DataSeed);
        return job.TrainSamples is int n ? DatasetSubset.First(train, n) : train;
    }
}
