// The sharded exchange's replica check: a hash that sees one flipped bit, and a verdict that names only what a majority refutes.
using DistClip.Training.State;
using Xunit;

namespace DistClip.Tests.State;

public class ReplicaAgreementSpecs
{
    private static readonly float[] Values = Enumerable.Range(0, 1_000).Select(i => MathF.Sin(i) * 3).ToArray();

    private static ReplicaHash Hash(string name) => new(name);

    [Fact]
    public void Should_hash_alike_exactly_the_same_bits_at_the_same_version()
    {
        var hash = ReplicaHash.Of(Values, version: 40);
        Assert.Equal(hash, ReplicaHash.Of(Values.ToArray(), version: 40));
        Assert.NotEqual(hash, ReplicaHash.Of(Values, version: 41));

        var oneUlp = Values.ToArray();
        oneUlp[517] = MathF.BitIncrement(oneUlp[517]);
        Assert.NotEqual(hash, ReplicaHash.Of(oneUlp, version: 40));

        float[] zero = [0f, 1f], negativeZero = [-0f, 1f];   // equal as numbers, not as bits
        Assert.NotEqual(ReplicaHash.Of(zero, 0), ReplicaHash.Of(negativeZero, 0));

        var average = Values.Select(v => v / 2).ToArray();   // the moving average: nothing feeds it back into the weights
        var averageOff = average.ToArray();
        averageOff[3] = MathF.BitIncrement(averageOff[3]);
        Assert.NotEqual(ReplicaHash.Of(Values, 40, average), ReplicaHash.Of(Values, 40, averageOff));
        Assert.NotEqual(hash, ReplicaHash.Of(Values, 40, average));
        Assert.Equal("(none)", default(ReplicaHash).ToString());
    }

    [Fact]
    public void Should_agree_when_every_replica_holds_the_same_state()
    {
        var verdict = ReplicaAgreement.Judge(new Dictionary<string, ReplicaHash> { ["w0"] = Hash("a"), ["w1"] = Hash("a"), ["w2"] = Hash("a") });
        Assert.True(verdict.Agreed);
        Assert.Equal(Hash("a"), verdict.Majority);
        Assert.Empty(verdict.Divergent);
    }

    [Theory]
    [InlineData("a,a,b", "w2")]
    [InlineData("b,a,a", "w0")]
    [InlineData("a,a,a,b,c", "w3,w4")]
    [InlineData("a", "")]
    public void Should_name_every_replica_outside_a_strict_majority(string held, string divergent)
    {
        var verdict = ReplicaAgreement.Judge(held.Split(',').Select((h, i) => (h, i)).ToDictionary(x => $"w{x.i}", x => Hash(x.h)));
        Assert.False(verdict.Undecided);
        Assert.Equal(divergent.Split(',', StringSplitOptions.RemoveEmptyEntries), verdict.Divergent);
        Assert.Equal(divergent.Length == 0, verdict.Agreed);
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("a,a,b,b")]
    [InlineData("a,b,c")]
    public void Should_name_no_one_when_no_state_has_a_strict_majority(string held)
    {
        var verdict = ReplicaAgreement.Judge(held.Split(',').Select((h, i) => (h, i)).ToDictionary(x => $"w{x.i}", x => Hash(x.h)));
        Assert.True(verdict.Undecided);
        Assert.False(verdict.Agreed);
        Assert.Empty(verdict.Divergent);
        Assert.Equal(held.Split(',').Length, verdict.Groups.Sum(g => g.Count));
    }

    [Fact]
    public void Should_refuse_to_judge_no_replicas() =>
        Assert.Throws<ArgumentException>(() => ReplicaAgreement.Judge(new Dictionary<string, ReplicaHash>()));
}
