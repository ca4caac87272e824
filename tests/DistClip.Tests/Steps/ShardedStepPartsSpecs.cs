// The sharded step's book-keeping without actors: a worker's ShardedStep, the coordinator's replica checks, the state bundle.
using DistClip.Coordinator.Steps;
using DistClip.Protocol;
using DistClip.Training.State;
using DistClip.Worker;
using Xunit;

namespace DistClip.Tests.Steps;

public class ShardedStepPartsSpecs
{
    private static StepRanges Plan(int you, int owners, int[] shardSamples) =>
        new(3, 9, 2, you, shardSamples, Enumerable.Range(0, owners).Select(k => new RangeOwner($"/user/w{k}", null, 100 + k)).ToArray(),
            Enumerable.Range(0, owners).Select(k => 200L + k).ToArray());

    [Fact]
    public void An_owner_should_reduce_its_range_in_shard_order_whatever_the_arrival_order_and_gather_every_range()
    {
        var step = new ShardedStep(Plan(you: 1, owners: 2, shardSamples: [2, 1, 3]), length: 40);   // ranges [0, 16), [16, 40)
        Assert.Equal(16, step.OwnRange.Start);
        float[] Slice(float v) => Enumerable.Repeat(v, 24).ToArray();
        Assert.Null(step.AddShardRange(2, 3, 0, 16, Slice(0.3f), out var r2));
        Assert.Null(step.AddShardRange(0, 2, 0, 16, Slice(1e8f), out var r0));
        Assert.Null(r0 ?? r2);
        var mean = step.AddShardRange(1, 1, 0, 16, Slice(-1e8f), out _);
        Assert.NotNull(mean);
        Assert.Equal(((1e8f + -1e8f) + 0.3f) / 6f, mean.Value.Span[0]);   // in shard order: 0, 1, 2 (arrival order would lose the 0.3)
        Assert.False(step.IsGathered);
        Assert.False(step.AddReducedRange(0, 0, new float[15], out var wrongLength));
        Assert.Contains("its range is [0, 16)", wrongLength);
        Assert.True(step.AddReducedRange(0, 0, new float[16], out _));
        Assert.True(step.IsGathered);
        Assert.False(step.AddReducedRange(0, 0, new float[16], out var twice));
        Assert.Contains("came twice", twice);
    }

    [Fact]
    public void An_owner_should_drop_a_range_of_another_owner_a_wrong_count_or_a_duplicate_with_a_reason()
    {
        var step = new ShardedStep(Plan(you: 0, owners: 2, shardSamples: [2, 2]), length: 32);
        Assert.Null(step.AddShardRange(0, 2, 0, 16, new float[16], out var wrongOwner));
        Assert.Contains("this worker owns [0, 16)", wrongOwner);
        Assert.Null(step.AddShardRange(1, 3, 0, 0, new float[16], out var wrongCount));
        Assert.Contains("shard 1 has 2 samples", wrongCount);
        Assert.Null(step.AddShardRange(0, 2, 0, 0, new float[16], out var first));
        Assert.Null(first);
        Assert.Null(step.AddShardRange(0, 2, 0, 0, new float[16], out var duplicate));
        Assert.Contains("came twice", duplicate);
    }

    [Fact]
    public void A_replica_check_should_be_judged_once_every_worker_still_there_reported()
    {
        var checks = new ReplicaChecks();
        var run = new ReplicaHash("aa");
        checks.Expect(50, run, ["w0", "w1", "w2"]);
        Assert.Null(checks.Report(50, "w0", run));
        Assert.Null(checks.Report(50, "stranger", new ReplicaHash("bb")));
        Assert.Null(checks.Report(50, "w2", new ReplicaHash("bb")));
        var (steps, verdict) = Assert.Single(checks.Forget("w1"));
        Assert.Equal(50, steps);
        Assert.Equal(["w2"], verdict.Divergent);
        Assert.Equal(run, verdict.Majority);
        Assert.Empty(checks.Forget("w0"));   // judged once, then forgotten
    }

    [Fact]
    public void A_state_bundle_should_round_trip_its_files_and_refuse_a_malformed_one()
    {
        var from = Directory.CreateTempSubdirectory("distclip-bundle-").FullName;
        var to = Directory.CreateTempSubdirectory("distclip-bundle-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(from, "weights.safetensors"), [1, 2, 3]);
            File.WriteAllBytes(Path.Combine(from, "optimizer.bin"), []);
            var bundle = StateBundle.Pack(from);
            StateBundle.Unpack(bundle, to);
            Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(to, "weights.safetensors")));
            Assert.Empty(File.ReadAllBytes(Path.Combine(to, "optimizer.bin")));
            Assert.Throws<InvalidDataException>(() => StateBundle.Unpack(bundle.AsSpan(0, bundle.Length - 1), to));
            byte[] escape = [5, 0, 0, 0, .. "../x"u8.ToArray(), (byte)'y', 0, 0, 0, 0];
            Assert.Contains("not a plain file name", Assert.Throws<InvalidDataException>(() => StateBundle.Unpack(escape, to)).Message);
        }
        finally
        {
            Directory.Delete(from, true);
            Directory.Delete(to, true);
        }
    }
}
