// The sharded exchange's arithmetic, done in one process with its real pieces: bit-identical to the central step.
using DistClip.Coordinator;
using DistClip.Coordinator.Steps;
using DistClip.Core;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Training.Reduction;
using DistClip.Training.State;
using DistClip.Worker;
using Xunit;
using static TorchSharp.torch;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// The sharded step (docs/ARCHITECTURE.md) against the central one, with the pieces the actors route: each of N workers
/// holds a <see cref="ModelReplica"/> and computes the shards given it on that replica; owner k reduces range k of every
/// shard sum in shard order (whatever the arrival order); the reduced ranges are gathered; each worker measures the
/// tensors <see cref="NormAssignment"/> gives it; the one <see cref="ClipDecider"/> decides; every replica applies the
/// decision and steps. The central step is today's: one reducer over whole shard sums, <see cref="MasterWeights"/>.
/// Every replica must end every step with the master's bits (parameters and batch-norm statistics), the same pre-clip
/// norm, coefficient and post-clip norm.
/// </summary>
public class ShardedStepSpecs
{
    public static TheoryData<string, string, string> Cases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var clip in new[] { "norm:0.1", "norm:0.3:1", "norm:0.05:inf", "value:0.005", "layer:0.05", "agc:0.02", "auto:50", "none" })
            foreach (var optimizer in new[] { "sgd", "adam", "adamw" })
                cases.Add("lenet", clip, optimizer);
        cases.Add("resnet18_cifar", "norm:0.5", "sgd");
        cases.Add("resnet18_cifar", "auto:50:inf", "adam");
        return cases;
    }

    private const int Workers = 3, Shards = 5, GlobalBatch = 23, Steps = 4;   // uneven shards: 5, 5, 5, 4, 4

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_end_every_step_on_every_replica_with_the_central_masters_bits(string model, string clipSpec, string optimizerName)
    {
        var clip = ClipPolicy.Parse(clipSpec);
        var data = model == "lenet" ? TestData.FashionMnist(256) : SyntheticClassification.Create("synthetic-bn", 64, 3, 32, 32, 10, 3);
        var spec = new ModelSpec(model, data.Channels, data.Height, data.Width, data.Classes);
        var optimizer = new OptimizerSettings(optimizerName, optimizerName == "sgd" ? 0.05 : 0.01, optimizerName == "sgd" ? 0.9 : 0.0, WeightDecay: 0.01);
        var schedule = new ScheduleSettings("cosine");
        Func<ModelReplica> newReplica = () => new ModelReplica(ModelZoo.Create(spec, seed: 4), optimizer, schedule, Steps, clip, emaDecay: 0.9);

        using var master = new MasterWeights(ModelZoo.Create(spec, seed: 4), optimizer, schedule, Steps, clip, NonFinitePolicy.Skip, emaDecay: 0.9);
        using var centralWorker = ModelZoo.Create(spec, seed: 0);   // the central exchange's worker: loaded from the master each step
        var centralFlat = new FlatParameters(centralWorker);
        var centralComputer = new ShardGradientComputer(centralWorker, centralFlat, data, CPU, microBatch: 3);
        var replicas = Enumerable.Range(0, Workers).Select(_ => newReplica()).ToArray();
        var computers = replicas.Select(r => new ShardGradientComputer(r.Model, r.Flat, data, CPU, microBatch: 3)).ToArray();
        var decider = new ClipDecider(clip);
        int length = (int)master.ExchangeLength;
        var plan = RangePlan.Balanced(length, Workers);
        var sizes = replicas[0].Flat.Parameters.Select(p => p.numel()).ToArray();
        var measurers = new NormAssignment(sizes, Workers);
        var batches = new BatchOrder(data.Count, GlobalBatch, shuffle: true, seed: 9);
        var arrival = new Random(11);

        try
        {
            for (long step = 0; step < Steps; step++)
            {
                var shards = ShardPlan.Split(batches.GlobalBatch(step), Shards);
                var order = Enumerable.Range(0, Shards).OrderBy(_ => arrival.Next()).ToArray();   // the order results arrive in

                // Central: a worker at the master's version computes every shard; one reducer over whole vectors.
                var values = new float[length];
                master.CopyValuesTo(values);
                centralFlat.WriteValues(values);
                var centralSums = shards.Select(s => centralComputer.Compute(s)).ToArray();
                var reducer = new GradientReducer(Shards, new float[length]);
                foreach (int s in order) Assert.True(reducer.Add(s, centralSums[s].SampleCount, centralSums[s].LossSum, centralSums[s].GradientSum));
                var central = master.Apply(step, reducer.MeanGradient());

                // Sharded: shard s on worker s mod N, on its own replica; owner k reduces range k of every shard sum.
                var sums = shards.Select((s, i) => computers[i % Workers].Compute(s)).ToArray();
                var gathered = new float[length];
                foreach (var (range, owner) in plan.Ranges.Select((r, k) => (r, k)))
                {
                    var owned = new GradientReducer(Shards, new float[range.Length]);
                    foreach (int s in order) Assert.True(owned.Add(s, sums[s].SampleCount, sums[s].LossSum, sums[s].GradientSum.AsMemory(range.Start, range.Length)));
                    owned.MeanGradient().CopyTo(range.Of(gathered.AsSpan()));
                }
                var norms = new float[sizes.Length];
                for (int w = 0; w < Workers; w++)
                {
                    using var scope = NewDisposeScope();
                    replicas[w].LoadGradient(gathered);
                    var mine = measurers.TensorsOf(w);
                    var measured = ClipMeasure.TensorNorms(mine.Select(t => replicas[w].Gradients()[t]).ToArray(), decider.NormType);
                    for (int i = 0; i < mine.Count; i++) norms[mine[i]] = measured[i];
                }
                var decision = decider.Decide(norms);
                var outcomes = replicas.Select(r => r.Step(decision, gathered)).ToArray();

                var expected = new float[length];
                master.CopyValuesTo(expected);
                for (int w = 0; w < Workers; w++)
                {
                    Assert.Equal(central.GradNorm, outcomes[w].PreClipNorm);
                    Assert.Equal(central.ClipCoefficient, outcomes[w].Coefficient);
                    Assert.Equal(central.Clip.ClippedUnits, outcomes[w].ClippedUnits);
                    using var scope = NewDisposeScope();
                    Assert.Equal(central.PostClipNorm, (double)ClipMeasure.GlobalNorm(replicas[w].Gradients(), decider.NormType));
                    var actual = replicas[w].Flat.ReadValues();
                    var differing = Enumerable.Range(0, length).Where(i => BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i])).ToList();
                    Assert.True(differing.Count == 0, $"step {step}, worker {w}: {differing.Count} of {length} elements differ from the master's (first at {differing.FirstOrDefault()})");
                    Assert.Equal(master.AverageValues(), replicas[w].AverageValues());
                }
                // The replica check agrees: every replica's hash is the master's state's.
                var hashes = replicas.Select((r, w) => (w, Hash: ReplicaHash.Of(r))).ToDictionary(x => $"worker-{x.w}", x => x.Hash);
                var verdict = ReplicaAgreement.Judge(hashes);
                Assert.True(verdict.Agreed, $"step {step}: replicas diverged: {string.Join(" | ", verdict.Groups.Select(g => string.Join(",", g)))}");
                Assert.Equal(ReplicaHash.Of(expected, step + 1, master.AverageValues()), verdict.Majority);
            }
            Assert.Equal(Steps, replicas[0].Version);
        }
        finally
        {
            foreach (var r in replicas) r.Dispose();
        }
    }
}
