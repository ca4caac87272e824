// The plain TorchSharp loops the benchmark compares DistClip against: no actors, no exchange.
using System.Diagnostics;
using DistClip.Hosting;
using DistClip.Training.Optimization;
using DistClip.Coordinator.Steps;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using static TorchSharp.torch;

namespace DistClip.Cli.Bench;

/// <summary>
/// Plain training loops: forward, mean loss, backward, optimizer step, one host sync per step.
/// With <c>copies</c> = 1 it is the single-process baseline on the whole global batch. With
/// <c>copies</c> = N it runs N independent loops at once on threads of their own, each on its
/// 1/N share of every global batch and its own model: what N workers could do with zero
/// communication, i.e. the machine's parallel ceiling for the embedded trainer.
/// </summary>
public static class SingleProcessBaseline
{
    /// <summary>Total samples per second over <paramref name="timedSteps"/> steps after <paramref name="warmupSteps"/> untimed ones.</summary>
    public static double SamplesPerSecond(TrainingSettings s, IImageDataset train, int copies, int threadsPerCopy, int warmupSteps, int timedSteps)
    {
        var batches = new BatchOrder(train.Count, s.GlobalBatch, s.Shuffle, s.Seed);
        var start = new Barrier(copies + 1);
        long[] samples = new long[copies];
        var workers = Enumerable.Range(0, copies).Select(c => new Thread(() =>
        {
            set_num_threads(threadsPerCopy);
            using var model = ModelZoo.Create(RunInputs.SpecFor(s, train), s.Seed);
            model.train();
            using var optimizer = OptimizerFactory.Create(model.parameters(), s.Optimizer);
            for (int step = 0; step < warmupSteps + timedSteps; step++)
            {
                if (step == warmupSteps) start.SignalAndWait();
                using var scope = NewDisposeScope();
                var indices = ShardPlan.Split(batches.GlobalBatch(step), copies)[c];
                var (x, y) = train.Batch(indices);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(x), y);
                loss.backward();
                optimizer.step();
                _ = loss.item<float>();  // the same one host sync per step the trainer's loss report costs
                if (step >= warmupSteps) samples[c] += indices.Length;
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        foreach (var w in workers) w.Join();
        return samples.Sum() / clock.Elapsed.TotalSeconds;
    }
}
