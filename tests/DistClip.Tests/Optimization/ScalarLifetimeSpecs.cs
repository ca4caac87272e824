// Garbage collections on other threads never free a Scalar that libtorch is reading (the intermittent Adam-step failure).
using System.Diagnostics;
using DistClip.Coordinator;
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;
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
/// to be true", "Unknown scalar type"). These specs run DistClip's tensor code while another thread
/// collects garbage as fast as it can: every number DistClip hands libtorch must outlive its call.
/// </summary>
public class ScalarLifetimeSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    /// <summary>Runs <paramref name="body"/> repeatedly for <see cref="Duration"/> while a thread collects garbage; returns the iterations and collections.</summary>
    private static (long Iterations, long Collections) UnderCollections(Action body)
    {
        var stop = new CancellationTokenSource();
        long collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        });
        long iterations = 0;
        collector.Start();
        try
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Duration) { body(); iterations++; }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        return (iterations, Interlocked.Read(ref collections));
    }

    [Theory]
    [InlineData("adam", "norm:0.1:inf")]
    [InlineData("adamw", "agc:0.01")]
    [InlineData("sgd", "layer:0.05")]
    [InlineData("sgd", "value:0.001")]
    public void Should_step_the_master_weights_while_another_thread_collects_garbage(string optimizer, string clip)
    {
        var spec = new ModelSpec("mlp", 1, 8, 8, 4, Hidden: 16);
        using var master = new MasterWeights(ModelZoo.Create(spec, 1), new OptimizerSettings(optimizer, 0.01, 0.9), new ScheduleSettings("cosine"),
            100_000, ClipPolicy.Parse(clip), NonFinitePolicy.Skip, emaDecay: 0.99);
        var random = new Random(2);
        var gradient = Enumerable.Range(0, (int)master.ExchangeLength).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        long step = 0;
        var (iterations, collections) = UnderCollections(() => master.Apply(step++, gradient));
        output.WriteLine($"{optimizer}, {clip}: {iterations} steps under {collections} collections");
        Assert.True(collections > 10, $"only {collections} collections ran: the spec did not stress anything");
        Assert.DoesNotContain(master.Snapshot().Values, float.IsNaN);
    }

    [Fact]
    public void Should_compute_shard_losses_and_statistics_while_another_thread_collects_garbage()
    {
        using var model = ModelZoo.Create(new ModelSpec("resnet18_cifar", 3, 8, 8, 4), 1);  // batch norm: its statistics are scaled by the shard size
        var flat = new FlatParameters(model);
        var exchange = new float[flat.ExchangeLength];
        using var images = randn(4, 3, 8, 8);
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        using var targets = randn(4, 4);
        var (iterations, collections) = UnderCollections(() =>
        {
            using var scope = NewDisposeScope();
            _ = TaskLoss.Sum(TaskKind.Regression, targets.sin(), targets).item<float>();
            TaskLoss.Sum(TaskKind.Classification, model.forward(images), labels).backward();
            flat.ReadGradients(4, exchange);
        });
        output.WriteLine($"{iterations} shard passes under {collections} collections");
        Assert.True(collections > 10, $"only {collections} collections ran: the spec did not stress anything");
    }
}
