// The core invariant: N workers compute what one process computes, and reruns are bit-identical.
using DistClip.Cli.Hosting;
using DistClip.Coordinator;
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;
using DistClip.Models.Data;
using DistClip.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Equivalence;

public class EquivalenceSpecs(ITestOutputHelper output)
{
    private const int Steps = 24;
    private const int GlobalBatch = 50;       // not divisible by 3 or 4: uneven shards
    private const double Lr = 0.05, Momentum = 0.9;
    private const double Tolerance = 1e-5;

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

    private static TrainingSettings Settings(string model, int workers, double maxNorm, double p) => new()
    {
        Model = model,
        Hidden = 64,
        Workers = workers,
        GlobalBatch = GlobalBatch,
        Steps = Steps,
        Seed = 11,
        Shuffle = false,
        Clip = new ClipPolicy.GlobalNorm(maxNorm, p),
        Optimizer = new OptimizerSettings("sgd", Lr, Momentum),
        Schedule = new ScheduleSettings("constant"),
        Evaluate = false,
    };

    private static (float[] Parameters, List<StepReport> Reports) RunDistClip(TrainingSettings settings, IImageDataset data)
    {
        var recorder = new Recorder();
        var result = EmbeddedTrainer.RunAsync(settings, recorder, data).WaitAsync(TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        result.Model.Dispose();
        return (result.Parameters, recorder.Reports);
    }

    private static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
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
    public void Should_match_a_single_process_loop_with_torchsharp_clip_grad_norm(string model, int workers, double p)
    {
        var data = Data;
        var settings = Settings(model, workers, MaxNorm(model, p), p);
        var spec = EmbeddedTrainer.SpecFor(settings, data);
        var reference = ReferenceLoop.Train(spec, settings.Seed, data, GlobalBatch, Steps, Lr, Momentum, MaxNorm(model, p), p);

        var (distributed, reports) = RunDistClip(settings, data);

        int clipped = reports.Count(r => r.Outcome.Clipped);
        double diff = MaxAbsDifference(reference, distributed);
        output.WriteLine($"{model} N={workers} p={p}: max |Δθ| = {diff:E2}, clipped on {clipped}/{reports.Count} steps");
        Assert.Equal(Steps, reports.Count);
        Assert.InRange(clipped, 1, Steps - 1);  // the threshold binds on some steps, not all
        Assert.True(diff <= Tolerance, $"{model} with {workers} workers, p={p}: max abs difference {diff:E3} > {Tolerance:E0}");
    }

    [Theory]
    [InlineData("lenet", 3)]
    [InlineData("mlp", 4)]
    public void Should_be_bit_identical_across_runs_with_the_same_worker_count(string model, int workers)
    {
        var data = Data;
        var settings = Settings(model, workers, MaxNorm(model, 2.0), 2.0) with { Shuffle = true };
        var (first, _) = RunDistClip(settings, data);
        var (second, _) = RunDistClip(settings, data);
        Assert.True(first.AsSpan().SequenceEqual(second), $"runs differ: max abs difference {MaxAbsDifference(first, second):E3}");
    }

    [Fact]
    public void Should_match_one_worker_with_shuffling_on()
    {
        var data = Data;
        var one = RunDistClip(Settings("lenet", 1, 0.16, 2.0) with { Shuffle = true }, data).Parameters;
        var three = RunDistClip(Settings("lenet", 3, 0.16, 2.0) with { Shuffle = true }, data).Parameters;
        double diff = MaxAbsDifference(one, three);
        Assert.True(diff <= Tolerance, $"1 vs 3 workers with shuffling: max abs difference {diff:E3}");
    }

    [Fact]
    public void Should_differ_from_clipping_each_worker_by_its_own_norm()
    {
        // If the coordinator clipped per worker (or averaged worker norms), it would land on the foil.
        var data = Data;
        var settings = Settings("mlp", 2, MaxNorm("mlp", 2.0), 2.0);
        var spec = EmbeddedTrainer.SpecFor(settings, data);
        var global = ReferenceLoop.Train(spec, settings.Seed, data, GlobalBatch, Steps, Lr, Momentum, MaxNorm("mlp", 2.0), 2.0);
        var perWorker = ReferenceLoop.Train(spec, settings.Seed, data, GlobalBatch, Steps, Lr, Momentum, MaxNorm("mlp", 2.0), 2.0, perWorkerClipShards: 2);
        var (distributed, _) = RunDistClip(settings, data);

        double toGlobal = MaxAbsDifference(global, distributed), toPerWorker = MaxAbsDifference(perWorker, distributed);
        output.WriteLine($"max |Δθ| to global clipping {toGlobal:E2}, to per-worker clipping {toPerWorker:E2}");
        Assert.True(toGlobal <= Tolerance, $"distributed vs global clipping: {toGlobal:E3}");
        Assert.True(toPerWorker > 100 * Tolerance, $"per-worker clipping is indistinguishable ({toPerWorker:E3}); the test would not catch it");
    }

    [Theory]
    [InlineData("layer:0.05")]
    [InlineData("layer:0.02:inf")]
    [InlineData("agc:0.002")]
    [InlineData("agc:0.002:all")]
    [InlineData("auto:25")]
    [InlineData("value:0.004")]
    public void Should_match_one_process_under_every_clipping_policy(string spec)
    {
        var data = Data;
        var policy = ClipPolicy.Parse(spec);
        var settings = Settings("lenet", 3, 1, 2.0) with { Clip = policy };
        var spec3 = EmbeddedTrainer.SpecFor(settings, data);
        var reference = ReferenceLoop.Train(spec3, settings.Seed, data, GlobalBatch, Steps, Lr, Momentum, null, 2.0, policy: policy);

        var (distributed, reports) = RunDistClip(settings, data);

        int binding = reports.Count(r => r.Outcome.Clipped);
        double diff = MaxAbsDifference(reference, distributed);
        output.WriteLine($"{spec}: max |Δθ| = {diff:E2}, clipping bound on {binding}/{reports.Count} steps, units clipped in the last step {reports[^1].Outcome.Clip.ClippedUnits}/{reports[^1].Outcome.Clip.Units}");
        Assert.True(binding > 0, $"{spec} never clipped: the test would not see a difference");
        Assert.True(diff <= Tolerance, $"{spec}: 3 workers vs one process differ by {diff:E3}");
    }

    [Theory]
    [InlineData("cnn", "flip,crop:2", 50, 24)]
    [InlineData("vgg11_cifar", "flip,crop:4,resize:32,normalize:0.3:0.35", 12, 20)]
    public void Should_match_one_process_with_augmentation_on(string model, string augment, int globalBatch, int steps)
    {
        var data = Data;
        var augmentation = Protocol.Augmentation.Parse(augment);
        var settings = Settings(model, 3, 1.0, 2.0) with { GlobalBatch = globalBatch, Steps = steps, Augmentation = augmentation, Shuffle = false };
        var spec = EmbeddedTrainer.SpecFor(settings, data);
        var reference = ReferenceLoop.Train(spec, settings.Seed, data, globalBatch, steps, Lr, Momentum, 1.0, 2.0, augmenter: new Augmenter(augmentation, settings.Seed));

        var (distributed, reports) = RunDistClip(settings, data);

        double diff = MaxAbsDifference(reference, distributed);
        output.WriteLine($"{model} with {augment}: max |Δθ| = {diff:E2}, clipped on {reports.Count(r => r.Outcome.Clipped)}/{reports.Count} steps");
        Assert.True(diff <= Tolerance, $"{model} with augmentation: 3 workers vs one process differ by {diff:E3}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Should_match_one_process_on_a_regression_task(int workers)
    {
        var data = new SyntheticRegression("regression-test", 500, 4);
        var settings = Settings("mlp", workers, 0.05, 2.0);
        var spec = EmbeddedTrainer.SpecFor(settings, data);
        var reference = ReferenceLoop.Train(spec, settings.Seed, data, GlobalBatch, Steps, Lr, Momentum, 0.05, 2.0);
        var (distributed, reports) = RunDistClip(settings, data);
        double diff = MaxAbsDifference(reference, distributed);
        output.WriteLine($"regression N={workers}: max |Δθ| = {diff:E2}, clipped on {reports.Count(r => r.Outcome.Clipped)}/{reports.Count} steps");
        Assert.InRange(reports.Count(r => r.Outcome.Clipped), 1, Steps - 1);
        Assert.True(diff <= Tolerance, $"regression with {workers} workers: max abs difference {diff:E3}");
    }
}
