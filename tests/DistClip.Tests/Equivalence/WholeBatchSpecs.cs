// N workers take every step the whole global batch would take from the same parameters, within float32 rounding measured per step.
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Hosting;
using DistClip.Models.Data;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// The whole-batch claim, tested step by step. For every step t of a DistClip run, from the parameters θ_t DistClip
/// held, the textbook whole-batch step is computed in float64 (the truth) and in float32 (what rounding alone costs
/// here): DistClip's clipped gradient must be as close to the float64 one as the float32 whole-batch gradient is, up
/// to <see cref="RoundingMultiple"/>, and θ_{t+1} must be the SGD step of that gradient to the last bit's rounding.
/// <para>
/// Why per step and not at the end of a run: this test used to compare the parameters after 24 steps with those of a
/// whole-batch loop, against a tolerance taken from the drift between two other float32 loops. Training amplifies a
/// difference of rounding from step to step, and a drift measured on one pair bounds nothing of another pair: on an
/// Intel Xeon, lenet with 3 workers and an ∞-norm clip ended 1.1e-5 apart from the whole batch (tolerance 6e-7),
/// every other case within 1.2e-7. The cause, as far as this machine shows it: ReLU and max-pool are piecewise linear,
/// and where a pre-activation lies within rounding of zero (or two pool inputs within rounding of each other) another
/// computation takes the other branch, so one sample's contribution to a few hundred elements jumps. On the AMD EPYC
/// where this test was rewritten, the lenet ∞-norm trajectory crosses such a kink once in 24 steps between float32 and
/// float64 (step 21: conv1.bias[5] −2.44e-4 vs −1.68e-4, 1.85e-3 of the whole gradient; every other step 1e-7), and
/// an ∞-norm clip, whose coefficient hangs on a single element, and momentum 0.9 carry such an offset on and grow it.
/// Shards of 17 samples may run other kernels than a batch of 50 on a Xeon and cross a kink the whole batch does not:
/// a legitimate rounding outcome, not a wrong step. So what is asserted is what is true on any processor: each step,
/// from where DistClip stood, is the whole batch's step.
/// </para>
/// Each step's gradient is compared by <see cref="WholeBatchStep.BulkDistance"/>, which leaves out the 1 % of elements
/// where a kink of ReLU or max-pool may have been crossed (this is what happens on that one step of 24 here); a mistake
/// that touches fewer elements than that — one tensor left out of the reduction — is the bit-for-bit tests' to catch
/// (<see cref="EquivalenceSpecs"/>). The planted bugs of this field (per-worker clipping, equal weights for uneven shards) miss the float64 step by
/// more than 100 times the tolerance (<see cref="Should_tell_a_planted_bug_from_float32_rounding"/>).
/// </summary>
[Collection(nameof(StockTorchSharp))]  // the references use TorchSharp's own clip_grad_norm_
public class WholeBatchSpecs(ITestOutputHelper output)
{
    private const int Steps = 24;
    private const int GlobalBatch = 50;   // not divisible by 3 or 4: uneven shards
    private const double Lr = 0.05;

    /// <summary>
    /// How far DistClip's per-step gradient error may exceed the float32 whole-batch loop's, both against float64.
    /// Measured: DistClip's error is 0.7–2 times the loop's (its median); the planted bugs are 10^4 times or more.
    /// </summary>
    private const double RoundingMultiple = 10;

    private const double Float32Epsilon = 1.1920929e-7;   // 2^-23

    // Thresholds chosen so that clipping binds on some steps but not all (asserted below).
    private static double MaxNorm(string model, double p) => (model, double.IsPositiveInfinity(p)) switch
    {
        ("mlp", false) => 1.0,
        ("mlp", true) => 0.1,
        ("lenet", false) => 0.16,
        _ => 0.065,
    };

    private static IImageDataset Data => TestData.FashionMnist(600);

    /// <summary>Plain SGD (no momentum: a step's whole state is θ), batches in file order, micro-batches as large as a shard.</summary>
    private static TrainingSettings Settings(string model, int workers, double p) => new()
    {
        Model = model, Hidden = 64, Workers = workers, GlobalBatch = GlobalBatch, MicroBatch = 256, Steps = Steps, Seed = 11, Shuffle = false,
        Clip = new ClipPolicy.GlobalNorm(MaxNorm(model, p), p),
        Optimizer = new OptimizerSettings("sgd", Lr, 0.0), Schedule = new ScheduleSettings("constant"), Evaluate = false,
    };

    private static int[] BatchOf(int step, int count)
    {
        int stepsPerEpoch = (count + GlobalBatch - 1) / GlobalBatch, start = step % stepsPerEpoch * GlobalBatch;
        return Enumerable.Range(start, Math.Min(GlobalBatch, count - start)).ToArray();
    }

    /// <summary>Per step: DistClip's gradient error, the float32 loop's, and (when asked) a foil's, each relative to float64.</summary>
    private sealed record StepErrors(double[] DistClip, double[] Float32Loop, double[] Foil)
    {
        /// <summary>
        /// <see cref="RoundingMultiple"/> times the float32 whole-batch loop's typical (median) error over the steps, at least
        /// one float32 epsilon: a step where the loop crossed a kink the trim did not leave out cannot loosen every step's bound.
        /// </summary>
        public double Tolerance => RoundingMultiple * Math.Max(Median(Float32Loop), Float32Epsilon);

        private static double Median(double[] values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    private static StepErrors Measure(TrainingSettings settings, IImageDataset data, StepTrajectory run, WholeBatchStep.Variant foil = WholeBatchStep.Variant.Correct)
    {
        var spec = RunInputs.SpecFor(settings, data);
        var clip = (ClipPolicy.GlobalNorm)settings.Clip;
        int steps = run.Gradients.Count;
        var (distClip, float32Loop, foilError) = (new double[steps], new double[steps], new double[steps]);
        for (int t = 0; t < steps; t++)
        {
            var batch = BatchOf(t, data.Count);
            var truth = WholeBatchStep.ClippedGradient(spec, data, batch, run.Parameters[t], clip.MaxNorm, clip.NormType, ScalarType.Float64);
            var float32 = WholeBatchStep.ClippedGradient(spec, data, batch, run.Parameters[t], clip.MaxNorm, clip.NormType, ScalarType.Float32);
            distClip[t] = WholeBatchStep.BulkDistance(run.Gradients[t], truth);
            float32Loop[t] = WholeBatchStep.BulkDistance(float32, truth);
            if (foil != WholeBatchStep.Variant.Correct)
                foilError[t] = WholeBatchStep.BulkDistance(
                    WholeBatchStep.ClippedGradient(spec, data, batch, run.Parameters[t], clip.MaxNorm, clip.NormType, ScalarType.Float64, foil, settings.Workers), truth);
        }
        return new StepErrors(distClip, float32Loop, foilError);
    }

    /// <summary>θ_{t+1} = θ_t − lr·g_t, element by element, to within the two roundings of float32 SGD (of lr·g and of the sum).</summary>
    private static void AssertEveryStepIsTheSgdStepOfItsGradient(StepTrajectory run)
    {
        for (int t = 0; t < run.Gradients.Count; t++)
        {
            var (before, after, gradient) = (run.Parameters[t], run.Parameters[t + 1], run.Gradients[t]);
            for (int i = 0; i < gradient.Length; i++)
            {
                double step = Lr * gradient[i], expected = before[i] - step;
                double bound = Float32Epsilon * (Math.Abs(after[i]) + Math.Abs(step));
                Assert.True(Math.Abs(after[i] - expected) <= bound,
                    $"step {t}, element {i}: θ moved from {before[i]:R} to {after[i]:R}; the SGD step of its gradient {gradient[i]:R} gives {expected:R} (±{bound:E2})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(EquivalenceSpecs.Cases), MemberType = typeof(EquivalenceSpecs))]   // mlp and lenet, 1 to 4 workers, p = 2 and ∞
    public void Should_take_every_step_the_whole_batch_takes_within_float32_rounding(string model, int workers, double p)
    {
        var data = Data;
        var settings = Settings(model, workers, p);
        var run = StepTrajectory.Record(settings, data);

        var errors = Measure(settings, data, run);

        int clipped = run.Reports.Count(r => r.Outcome.Clipped);
        output.WriteLine($"{model} N={workers} p={p}: gradient error per step, relative to float64: DistClip ≤ {errors.DistClip.Max():E2}, " +
                         $"the float32 whole-batch loop ≤ {errors.Float32Loop.Max():E2} (median {errors.Tolerance / RoundingMultiple:E2}); tolerance {errors.Tolerance:E2}; clipped on {clipped}/{run.Reports.Count} steps");
        Assert.Equal(Steps, run.Gradients.Count);
        Assert.InRange(clipped, 1, Steps - 1);  // the threshold binds on some steps, not all
        int worst = Array.IndexOf(errors.DistClip, errors.DistClip.Max());
        Assert.True(errors.DistClip[worst] <= errors.Tolerance,
            $"{model} with {workers} workers, p={p}: step {worst}'s gradient is {errors.DistClip[worst]:E3} from the whole batch's (float64), tolerance {errors.Tolerance:E3}");
        AssertEveryStepIsTheSgdStepOfItsGradient(run);
    }

    /// <summary>
    /// The planted bugs must miss the whole batch's step by orders of magnitude more than the tolerance: clipping each
    /// worker's gradient by its own norm, and averaging shard means with equal weights although the shards are uneven
    /// (50 samples over 3 shards: 17, 17, 16). Both are computed in float64 from DistClip's own parameters, so their
    /// distance is the bug's, not rounding's.
    /// </summary>
    [Theory]
    [InlineData("mlp", 2, WholeBatchStep.Variant.PerWorkerClipping)]
    [InlineData("lenet", 3, WholeBatchStep.Variant.PerWorkerClipping)]
    [InlineData("mlp", 3, WholeBatchStep.Variant.EqualShardWeights)]
    [InlineData("lenet", 3, WholeBatchStep.Variant.EqualShardWeights)]
    public void Should_tell_a_planted_bug_from_float32_rounding(string model, int workers, WholeBatchStep.Variant bug)
    {
        var data = Data;
        var settings = Settings(model, workers, 2.0);
        var run = StepTrajectory.Record(settings, data);

        var errors = Measure(settings, data, run, bug);

        output.WriteLine($"{model} N={workers}: DistClip ≤ {errors.DistClip.Max():E2}, {bug} up to {errors.Foil.Max():E2}; tolerance {errors.Tolerance:E2}");
        Assert.True(errors.DistClip.Max() <= errors.Tolerance, $"DistClip vs the whole batch: {errors.DistClip.Max():E3} > {errors.Tolerance:E3}");
        Assert.True(errors.Foil.Max() > 100 * errors.Tolerance, $"{bug} is within 100x the tolerance ({errors.Foil.Max():E3} vs {errors.Tolerance:E3}); the test would not catch it");
    }
}
