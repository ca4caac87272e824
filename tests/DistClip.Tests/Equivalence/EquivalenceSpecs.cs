// The core invariant: N workers compute exactly what one process computes, and reruns are bit-identical.
using DistClip.Hosting;
using DistClip.Coordinator;
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;
using DistClip.Coordinator.Steps;
using DistClip.Models.Data;
using Xunit;
using Xunit.Abstractions;
using DistClip.Core;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// Two references. <see cref="ShardSumReferenceLoop"/> performs the very operations DistClip claims
/// (shard sums in shard order, one division, clip, step): DistClip must equal it bit for bit, on any
/// processor. <see cref="ReferenceLoop"/> is the textbook whole-batch loop: DistClip differs from it only
/// by float32 rounding, which training amplifies and which depends on the processor's kernels, so that
/// tolerance is measured on the machine that runs the test (<see cref="WholeBatchTolerance"/>).
/// </summary>
[Collection(nameof(StockTorchSharp))]  // the references use TorchSharp's own SGD and operators
public class EquivalenceSpecs(ITestOutputHelper output)
{
    private const int Steps = 24;
    private const int GlobalBatch = 50;       // not divisible by 3 or 4: uneven shards
    private const int MicroBatch = 8;         // shards of 12 to 50 samples run in several micro-batches
    private const double Lr = 0.05, Momentum = 0.9;

    /// <summary>
    /// How far DistClip may be from the whole-batch loop: this multiple of the distance between two
    /// equally valid float32 computations of the same training (the whole batch in one pass, and the
    /// batch summed in micro-batches of 7 samples), both run here — a pair that no DistClip configuration under test equals,
    /// so the spread is not DistClip's own. DistClip with 1 to 4 workers lands within a few times that
    /// distance; the planted bugs below land 10^3–10^5 tolerances away.
    /// </summary>
    private const double RoundingMultiple = 20;

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

    private static float[] WholeBatchReference(TrainingSettings s, IImageDataset data, int perWorkerClipShards = 0, bool equalShardWeights = false)
    {
        var norm = (ClipPolicy.GlobalNorm)s.Clip;
        return ReferenceLoop.Train(RunInputs.SpecFor(s, data), s.Seed, data, s.GlobalBatch, (int)s.Steps!, Lr, Momentum, norm.MaxNorm, norm.NormType,
            perWorkerClipShards, equalShardWeightShards: equalShardWeights ? s.Workers : 0);
    }

    /// <summary>
    /// The tolerance against the whole-batch loop, derived on this machine: <see cref="RoundingMultiple"/>
    /// times the distance between the whole batch and the same batch summed in micro-batches of 7, and at
    /// least one float32 epsilon of the largest parameter (should the two ever agree exactly).
    /// </summary>
    private static double WholeBatchTolerance(float[] wholeBatch, TrainingSettings s, IImageDataset data)
    {
        var inPieces = ShardSumReference(s with { MicroBatch = 7 }, data, shards: 1);
        double spread = MaxAbsDifference(wholeBatch, inPieces);
        Assert.True(spread < 1e-4, $"two float32 computations of the same training differ by {spread:E2}: too much for rounding, the references disagree");
        const double float32Epsilon = 1.1920929e-7;
        return RoundingMultiple * Math.Max(spread, float32Epsilon * wholeBatch.Max(Math.Abs));
    }

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
    [MemberData(nameof(Cases))]
    public void Should_match_a_whole_batch_loop_within_float32_rounding_measured_here(string model, int workers, double p)
    {
        var data = Data;
        var settings = Settings(model, workers, p) with { MicroBatch = 256 };
        var wholeBatch = WholeBatchReference(settings, data);
        double tolerance = WholeBatchTolerance(wholeBatch, settings, data);

        var (distributed, _) = RunDistClip(settings, data);

        double diff = MaxAbsDifference(wholeBatch, distributed);
        output.WriteLine($"{model} N={workers} p={p}: max |Δθ| to the whole batch = {diff:E2}, tolerance {tolerance:E2} (the rounding spread measured here x {RoundingMultiple})");
        Assert.True(diff <= tolerance, $"{model} with {workers} workers, p={p}: max |Δθ| {diff:E3} > {tolerance:E3}");
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

    /// <summary>
    /// The planted bugs of this field must fail the whole-batch comparison by orders of magnitude: clipping
    /// each worker's gradient by its own norm, and averaging the shard means with equal weights although
    /// the shards are uneven (50 samples over 3 workers: 17, 17, 16).
    /// </summary>
    [Theory]
    [InlineData("mlp", 2, "per-worker clipping")]
    [InlineData("lenet", 3, "per-worker clipping")]
    [InlineData("mlp", 3, "equal shard weights")]
    [InlineData("lenet", 3, "equal shard weights")]
    public void Should_tell_a_planted_bug_from_float32_rounding(string model, int workers, string bug)
    {
        var data = Data;
        var settings = Settings(model, workers, 2.0) with { MicroBatch = 256 };
        var wholeBatch = WholeBatchReference(settings, data);
        double tolerance = WholeBatchTolerance(wholeBatch, settings, data);
        var foil = bug == "per-worker clipping" ? WholeBatchReference(settings, data, perWorkerClipShards: workers) : WholeBatchReference(settings, data, equalShardWeights: true);
        var (distributed, _) = RunDistClip(settings, data);

        double toWholeBatch = MaxAbsDifference(wholeBatch, distributed), toFoil = MaxAbsDifference(foil, distributed);
        output.WriteLine($"{model} N={workers}: max |Δθ| to the whole batch {toWholeBatch:E2}, to {bug} {toFoil:E2}; tolerance {tolerance:E2}");
        Assert.True(toWholeBatch <= tolerance, $"distributed vs whole batch: {toWholeBatch:E3} > {tolerance:E3}");
        Assert.True(toFoil > 100 * tolerance, $"{bug} is within 100x the tolerance ({toFoil:E3} vs {tolerance:E3}); the test would not catch it");
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
