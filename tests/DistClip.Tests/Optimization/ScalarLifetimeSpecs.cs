// Garbage collections on other threads never free a Scalar that libtorch is reading (the intermittent Adam-step failure).
using DistClip.Coordinator;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Models;
using DistClip.Models.Zoo;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Optimization;

/// <summary>
/// TorchSharp 0.107 passes numbers to libtorch as temporary Scalars that nothing keeps alive during the
/// call; a collection started by another thread then lets the finalizer free one mid-call ("Expected false
/// to be true", "Unknown scalar type", or a number read from freed memory). These specs run DistClip's tensor
/// code twice, once alone and once while another thread collects garbage as fast as it can, and require the
/// same bits: every number DistClip hands libtorch must outlive its call, or the stressed run throws or
/// computes something else.
/// </summary>
public class ScalarLifetimeSpecs(ITestOutputHelper output)
{
    /// <summary>
    /// Runs <paramref name="run"/> while a thread collects garbage; returns its result and the collections. The run
    /// starts only once the first collection has finished, so that the collector is under way all through it.
    /// </summary>
    private static (T Result, long Collections) UnderCollections<T>(Func<T> run)
    {
        using var stop = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        long collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
                started.Set();
            }
        });
        collector.Start();
        try
        {
            started.Wait();
            return (run(), Interlocked.Read(ref collections));
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what) =>
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{what} under collections differ from those of the same run without: " +
            $"{expected.Zip(actual).Count(p => BitConverter.SingleToInt32Bits(p.First) != BitConverter.SingleToInt32Bits(p.Second))} of {expected.Length} elements");

    [Theory]
    [InlineData("adam", "norm:0.1:inf")]
    [InlineData("adamw", "agc:0.01")]
    [InlineData("sgd", "layer:0.05")]
    [InlineData("sgd", "value:0.001")]
    public void Should_step_the_master_weights_while_another_thread_collects_garbage(string optimizer, string clip)
    {
        const int steps = 5_000;   // about as many as run in 2 s under collections
        var spec = new ModelSpec("mlp", 1, 8, 8, 4, Hidden: 16);
        var random = new Random(2);
        long length;
        using (var model = ModelZoo.Create(spec, 1)) length = new FlatParameters(model).ExchangeLength;
        var gradient = new float[length];
        for (int i = 0; i < gradient.Length; i++) gradient[i] = (float)random.NextDouble() - 0.5f;

        (float[] Weights, float[] Average) Train()
        {
            using var master = new MasterWeights(ModelZoo.Create(spec, 1), new OptimizerSettings(optimizer, 0.01, 0.9), new ScheduleSettings("cosine"),
                100_000, ClipPolicy.Parse(clip), NonFinitePolicy.Error, emaDecay: 0.99);   // Error: a non-finite norm throws
            for (long step = 0; step < steps; step++) master.Apply(step, gradient);
            return (master.Snapshot().Values, master.AverageValues()!);
        }

        var alone = Train();
        var (stressed, collections) = UnderCollections(Train);
        output.WriteLine($"{optimizer}, {clip}: {steps} steps under {collections} collections");
        AssertSameBits(alone.Weights, stressed.Weights, "the weights");
        AssertSameBits(alone.Average, stressed.Average, "the moving average");
    }

    [Fact]
    public void Should_compute_shard_losses_and_statistics_while_another_thread_collects_garbage()
    {
        const int passes = 4;   // about as many as run in 3 s under collections
        using var images = randn(4, 3, 8, 8);
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        using var targets = randn(4, 4);

        // Both runs see the same inputs. The losses of every pass, then the gradients and batch-norm statistics of the last (its statistics are scaled by the shard size).
        float[] Passes()
        {
            using var model = ModelZoo.Create(new ModelSpec("resnet18_cifar", 3, 8, 8, 4), 1);
            var flat = new FlatParameters(model);
            var exchange = new float[flat.ExchangeLength];
            var losses = new List<float>();
            for (int pass = 0; pass < passes; pass++)
            {
                using var scope = NewDisposeScope();
                losses.Add(TaskLoss.Sum(TaskKind.Regression, targets.sin(), targets).item<float>());
                var loss = TaskLoss.Sum(TaskKind.Classification, model.forward(images), labels);
                losses.Add(loss.item<float>());
                loss.backward();
                flat.ReadGradients(4, exchange);
            }
            return [.. losses, .. exchange];
        }

        var alone = Passes();
        var (stressed, collections) = UnderCollections(Passes);
        output.WriteLine($"{passes} shard passes under {collections} collections");
        AssertSameBits(alone, stressed, "the losses, gradients and statistics");
    }
}
