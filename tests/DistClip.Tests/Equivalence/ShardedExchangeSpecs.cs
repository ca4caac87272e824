// The sharded exchange through the real actors, in one process: the same bits as the central exchange.
using DistClip.Hosting;
using DistClip.Coordinator;
using DistClip.Models.Data;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using Xunit;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// <c>--exchange sharded</c> against <c>--exchange central</c> with the embedded trainer's actors (workers that send
/// their ranges to the owners, owners that reduce and all-gather, a coordinator that decides on the gathered gradient
/// and replicas that step themselves): every clip policy × SGD (momentum), Adam, AdamW, three workers and uneven
/// shards, and a model with batch norm. The weights, the batch-norm statistics and the moving average must be the
/// central run's bit for bit, and no worker may leave. A replica that stepped otherwise than the master computes the
/// next step's shards on other weights, so the master's result would show it.
/// </summary>
public class ShardedExchangeSpecs
{
    private sealed class Departures : ITrainingObserver
    {
        public List<string> Left { get; } = [];
        public void OnStep(StepReport report) { }
        public void OnWorkerLeft(string worker) => Left.Add(worker);
    }

    [Theory]
    [MemberData(nameof(ShardedStepSpecs.Cases), MemberType = typeof(ShardedStepSpecs))]
    public async Task Should_train_with_the_sharded_exchange_the_central_exchanges_bits(string model, string clipSpec, string optimizerName)
    {
        var data = model == "lenet" ? TestData.FashionMnist(200) : SyntheticClassification.Create("synthetic-bn", 48, 3, 32, 32, 10, 3);
        var settings = new TrainingSettings
        {
            Model = model, Workers = 3, Shards = 4, GlobalBatch = 23, Steps = 5, Seed = 4, Evaluate = false, EmaDecay = 0.9,   // shards of 6, 6, 6, 5
            Clip = ClipPolicy.Parse(clipSpec),
            Optimizer = new OptimizerSettings(optimizerName, optimizerName == "sgd" ? 0.05 : 0.01, optimizerName == "sgd" ? 0.9 : 0.0, WeightDecay: 0.01),
        };
        var central = await EmbeddedTrainer.RunAsync(settings with { Exchange = ExchangeMode.Central }, new Departures(), data).WaitAsync(TimeSpan.FromMinutes(2));
        var departures = new Departures();
        var sharded = await EmbeddedTrainer.RunAsync(settings with { Exchange = ExchangeMode.Sharded }, departures, data).WaitAsync(TimeSpan.FromMinutes(2));
        central.Model.Dispose();
        sharded.Model.Dispose();

        Assert.Empty(departures.Left);
        Assert.Equal(central.Summary.Steps, sharded.Summary.Steps);
        Assert.Equal(central.Summary.FinalVersion, sharded.Summary.FinalVersion);
        Assert.True(central.Parameters.AsSpan().SequenceEqual(sharded.Parameters), $"{model} {clipSpec} {optimizerName}: the sharded weights are not the central ones");
        Assert.True(central.AverageParameters.AsSpan().SequenceEqual(sharded.AverageParameters), $"{model} {clipSpec} {optimizerName}: the sharded average is not the central one");
        Assert.Equal(central.Summary.ClippedSteps, sharded.Summary.ClippedSteps);
    }
}
