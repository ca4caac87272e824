// The core invariant: N workers compute exactly what one process computes, and reruns are bit-identical.
using DistClip.Hosting;
using DistClip.Coordinator;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Coordinator.Steps;
using DistClip.Models.Data;
using Xunit;
using Xunit.Abstractions;
using DistClip.Core;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// The exact reference: <see cref="ShardSumReferenceLoop"/> performs the very operations DistClip claims (shard sums
/// in shard order, one division, clip, step), so DistClip must equal it bit for bit, on any processor. How close those
/// operations are to the textbook whole-batch step is <see cref="WholeBatchSpecs"/>' business.
/// </summary>
[Collection(nameof(StockTorchSharp))]  // the references use TorchSharp's own SGD and operators
public class EquivalenceSpecs(ITestOutputHelper output)
{
    private const int Steps = 24;
    private const int GlobalBatch = 50;       // not divisible by 3 or 4: uneven shards
    private const int MicroBatch = 8;         // shards of 12 to 50 samples run in several micro-batches
    private const double Lr = 0.05, Momentum = 0.9;

    // Thresholds chosen so that clipping binds on some steps but not all (asserted below).
    private static double MaxNorm(string model, double p) => (model, double.IsPositiveInfinity(p)) switch
    {
        ("mlp", false) => 1.0,
        ("mlp", true) => 0.2,
        ("lenet", false) => 0.16,
        _ => 0.065,
    };

    private sealed class Recorder : ITrainingObserver
    {
        public List<StepReport> Reports { get; } = [];
        public void OnStep(StepReport report) => Reports.Add(report);
    }

    private static IImageDataset Data => TestData.FashionMnist(600);

    private static TrainingSettings Settings(string model, int workers, ClipPolicy clip) => new()
    {
        Model = model,
        Hidden = 64,
        Workers = workers,
        GlobalBatch = GlobalBatch,
        MicroBatch = MicroBatch,
        Steps = Steps,
        Seed = 11,
        Shuffle = false,
        Clip = clip,
        Optimizer = new OptimizerSettings("sgd", Lr, Momentum),
        Schedule = new ScheduleSettings("constant"),
        Evaluate = false,
    };

    private static TrainingSettings Settings(string model, int workers, double p) => Settings(model, workers, new ClipPolicy.GlobalNorm(MaxNorm(model, p), p));

    private static (float[] Parameters, List<StepReport> Reports) RunDistClip(TrainingSettings settings, IImageDataset data)
    {
        var recorder = new Recorder();
        var result = EmbeddedTrainer.RunAsync(settings, recorder, data).WaitAsync(TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        result.Model.Dispose();
        return (result.Parameters, recorder.Reports);
    }

    /// <summary>The exact reference for the settings <paramref name="s"/> with <paramref name="shards"/> shards.</summary>
    private static float[] ShardSumReference(TrainingSettings s, IImageDataset data, int shards, Augmenter? augmenter = null, Func<int, int[]>? batchOf = null) =>
        ShardSumReferenceLoop.Train(RunInputs.SpecFor(s, data), s.Seed, data, s.GlobalBatch, (int)s.Steps!, shards, s.MicroBatch, Lr, Momentum, s.Clip, augmenter, batchOf, s.Threads);

    private static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    private static int FirstDifference(float[] a, float[] b)
    {
        for (int i = 0; i < a.Length; i++) if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return i;
        return -1;
    }

    private static void AssertBitIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int first = FirstDifference(expected, actual);
        Assert.True(first < 0, $"{what}: not bit-identical; max |Δθ| = {MaxAbsDifference(expected, actual):E3}, first difference at element {first} ({(first < 0 ? 0 : expected[first]):R} vs {(first < 0 ? 0 : actual[first]):R})");
    }

    public static TheoryData<string, int, double> Cases()
    {
        var data = new TheoryData<string, int, double>();
        foreach (var model in new[] { "mlp", "lenet" })
            foreach (var workers in new[] { 1, 2, 3, 4 })
                foreach (var p in new[] { 2.0, double.PositiveInfinity })
                    data.Add(model, workers, p);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_equal_the_shard_sum_reference_with_torchsharp_clip_grad_norm_bit_for_bit(string model, int workers, double p)
    {
        var data = Data;
        var settings = Settings(model, workers, p);
        var reference = ShardSumReference(settings, data, shards: workers);

        var (distributed, reports) = RunDistClip(settings, data);

        int clipped = reports.Count(r => r.Outcome.Clipped);
        output.WriteLine($"{model} N={workers} p={p}: max |Δθ| = {MaxAbsDifference(reference, distributed):E2}, clipped on {clipped}/{reports.Count} steps");
        Assert.Equal(Steps, reports.Count);
        Assert.InRange(clipped, 1, Steps - 1);  // the threshold binds on some steps, not all
        AssertBitIdentical(reference, distributed, $"{model} with {workers} workers, p={p}");
    }

    [Theory]
    [InlineData("lenet", 3)]
    [InlineData("mlp", 4)]
    public void Should_be_bit_identical_across_runs_with_the_same_worker_count(string model, int workers)
    {
        var data = Data;
        var settings = Settings(model, workers, 2.0) with { Shuffle = true };
        var (first, _) = RunDistClip(settings, data);
        var (second, _) = RunDistClip(settings, data);
        AssertBitIdentical(first, second, "two runs");
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 3)]
    [InlineData(2, 4)]
    public void Should_compute_the_same_run_with_fewer_workers_than_shards(int workers, int shards)
    {
        var data = Data;
        var settings = Settings("lenet", workers, 2.0) with { Shards = shards };
        var reference = ShardSumReference(settings, data, shards);

        var (distributed, reports) = RunDistClip(settings, data);

        Assert.All(reports, r => Assert.Equal(shards, r.Shards));
        AssertBitIdentical(reference, distributed, $"{workers} workers computing {shards} shards");
    }

    [Fact]
    public void Should_equal_the_shard_sum_reference_with_shuffling_on()
    {
        // The sample order is a seeded permutation per epoch, whatever the number of workers.
        var data = Data;
        var settings = Settings("lenet", 3, 2.0) with { Shuffle = true };
        var order = new BatchOrder(data.Count, GlobalBatch, shuffle: true, settings.Seed);
        var reference = ShardSumReference(settings, data, shards: 3, batchOf: step => order.GlobalBatch(step));
        AssertBitIdentical(reference, RunDistClip(settings, data).Parameters, "3 workers with shuffling");
    }

    [Theory]
    [InlineData("layer:0.05")]
    [InlineData("layer:0.02:inf")]
    [InlineData("agc:0.002")]
    [InlineData("agc:0.002:all")]
    [InlineData("auto:25")]
    [InlineData("value:0.004")]
    public void Should_equal_the_shard_sum_reference_under_every_clipping_policy(string spec)
    {
        var data = Data;
        var settings = Settings("lenet", 3, ClipPolicy.Parse(spec));
        var reference = ShardSumReference(settings, data, shards: 3);

        var (distributed, reports) = RunDistClip(settings, data);

        int binding = reports.Count(r => r.Outcome.Clipped);
        output.WriteLine($"{spec}: max |Δθ| = {MaxAbsDifference(reference, distributed):E2}, clipping bound on {binding}/{reports.Count} steps, units clipped in the last step {reports[^1].Outcome.Clip.ClippedUnits}/{reports[^1].Outcome.Clip.Units}");
        Assert.True(binding > 0, $"{spec} never clipped: the test would not see a difference");
        AssertBitIdentical(reference, distributed, $"{spec} with 3 workers");
    }

    [Theory]
    [InlineData("cnn", "flip,crop:2", 50, 24)]
    [InlineData("vgg11_cifar", "flip,crop:4,resize:32,normalize:0.3:0.35", 12, 20)]
    public void Should_equal_the_shard_sum_reference_with_augmentation_on(string model, string augment, int globalBatch, int steps)
    {
        var data = Data;
        var augmentation = Augmentation.Parse(augment);
        var settings = Settings(model, 3, 1.0) with { Clip = new ClipPolicy.GlobalNorm(1.0, 2.0), GlobalBatch = globalBatch, Steps = steps, Augmentation = augmentation };
        var reference = ShardSumReference(settings, data, shards: 3, augmenter: new Augmenter(augmentation, settings.Seed));

        var (distributed, reports) = RunDistClip(settings, data);

        output.WriteLine($"{model} with {augment}: max |Δθ| = {MaxAbsDifference(reference, distributed):E2}, clipped on {reports.Count(r => r.Outcome.Clipped)}/{reports.Count} steps");
        AssertBitIdentical(reference, distributed, $"{model} with augmentation, 3 workers");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Should_equal_the_shard_sum_reference_on_a_regression_task(int workers)
    {
        var data = new SyntheticRegression("regression-test", 500, 4);
        var settings = Settings("mlp", workers, new ClipPolicy.GlobalNorm(0.05, 2.0));
        var reference = ShardSumReference(settings, data, shards: workers);
        var (distributed, reports) = RunDistClip(settings, data);
        output.WriteLine($"regression N={workers}: max |Δθ| = {MaxAbsDifference(reference, distributed):E2}, clipped on {reports.Count(r => r.Outcome.Clipped)}/{reports.Count} steps");
        Assert.InRange(reports.Count(r => r.Outcome.Clipped), 1, Steps - 1);
        AssertBitIdentical(reference, distributed, $"regression with {workers} workers");
    }
}
