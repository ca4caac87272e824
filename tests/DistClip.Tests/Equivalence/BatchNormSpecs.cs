// Batch norm across workers: each normalises by its shard, and the running statistics are averaged by sample count.
using DistClip.Hosting;
using DistClip.Training.Optimization;
using DistClip.Models.Zoo;
using Xunit;
using static TorchSharp.torch;

namespace DistClip.Tests.Equivalence;

public class BatchNormSpecs
{
    private sealed class Ignore : Coordinator.ITrainingObserver { public void OnStep(Coordinator.StepReport report) { } }

    [Fact]
    public async Task Should_average_the_workers_running_statistics_by_sample_count()
    {
        var data = TestData.Synthetic(64);
        var settings = new TrainingSettings
        {
            Model = "resnet18_cifar", Workers = 2, GlobalBatch = 7, Steps = 1, Seed = 5, Shuffle = false,
            Optimizer = new OptimizerSettings("sgd", 0.01, 0.0), Schedule = new ScheduleSettings("constant"), Evaluate = false,
        };
        var result = await EmbeddedTrainer.RunAsync(settings, new Ignore(), data).WaitAsync(TimeSpan.FromMinutes(3));
        var trained = result.Model.state_dict()["bn1.running_mean"].data<float>().ToArray();

        // Independently: each shard's forward pass from the initial model, then the count-weighted mean.
        var spec = RunInputs.SpecFor(settings, data);
        int[][] shards = [[0, 1, 2, 3], [4, 5, 6]];
        var expected = new double[trained.Length];
        foreach (var shard in shards)
        {
            using var scope = NewDisposeScope();
            using var replica = ModelZoo.Create(spec, settings.Seed);
            replica.train();
            using (no_grad()) replica.forward(data.Batch(shard).Images);
            var stats = replica.state_dict()["bn1.running_mean"].data<float>().ToArray();
            for (int i = 0; i < stats.Length; i++) expected[i] += stats[i] * shard.Length / 7.0;
        }
        Assert.Contains(trained, v => v != 0);  // the master's statistics moved from their initial zeros
        for (int i = 0; i < trained.Length; i++)
            Assert.True(Math.Abs(trained[i] - expected[i]) < 1e-5, $"channel {i}: {trained[i]} vs {expected[i]}");
        result.Model.Dispose();
    }

    /// <summary>
    /// Fixed shards promise that who computed which shard changes nothing. A worker that computes two shards of one
    /// parameter version must start each from the version's running statistics, not from those its previous shard's
    /// forward passes left behind: one worker taking both shards and two workers taking one each end bit-identical
    /// (buffers included).
    /// </summary>
    [Fact]
    public async Task Should_not_depend_on_which_worker_computed_a_shard_of_a_batch_norm_model()
    {
        var data = TestData.Synthetic(64);
        var settings = new TrainingSettings
        {
            Model = "resnet18_cifar", Workers = 2, Shards = 2, GlobalBatch = 8, Steps = 2, Seed = 5, Shuffle = false,
            Optimizer = new OptimizerSettings("sgd", 0.01, 0.0), Schedule = new ScheduleSettings("constant"), Evaluate = false,
        };
        async Task<float[]> Run(int workers)
        {
            var result = await EmbeddedTrainer.RunAsync(settings with { Workers = workers }, new Ignore(), data).WaitAsync(TimeSpan.FromMinutes(3));
            result.Model.Dispose();
            return result.Parameters;   // parameters and running statistics
        }
        var twoWorkers = await Run(2);
        var oneWorker = await Run(1);
        int first = Enumerable.Range(0, twoWorkers.Length).FirstOrDefault(i => BitConverter.SingleToInt32Bits(twoWorkers[i]) != BitConverter.SingleToInt32Bits(oneWorker[i]), -1);
        Assert.True(first < 0, $"one worker computing both shards differs from two workers at element {first} of {twoWorkers.Length}: " +
                               $"{(first < 0 ? 0 : oneWorker[first]):R} vs {(first < 0 ? 0 : twoWorkers[first]):R}");
    }
}
