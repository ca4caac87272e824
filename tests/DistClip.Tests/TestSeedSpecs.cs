// The seed of a test's random choices is printed, and setting it replays the same choices.
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests;

public sealed class TestSeedSpecs
{
    private sealed class Lines : ITestOutputHelper
    {
        public List<string> Written { get; } = [];
        public void WriteLine(string message) => Written.Add(message);
        public void WriteLine(string format, params object[] args) => Written.Add(string.Format(format, args));
    }

    [Fact]
    public void Should_print_the_seed_and_replay_its_choices_when_it_is_set()
    {
        var first = new Lines();
        var unset = TestSeed.Random(first, _ => null);
        int[] chosen = [.. Enumerable.Range(0, 5).Select(_ => unset.Next(1_000_000))];
        string printed = Assert.Single(first.Written);
        Assert.StartsWith("seed ", printed);
        string seed = printed.Split(' ')[1];

        var again = new Lines();
        var replay = TestSeed.Random(again, name => name == TestSeed.Variable ? seed : null);
        Assert.Equal(chosen, Enumerable.Range(0, 5).Select(_ => replay.Next(1_000_000)));
        Assert.Equal(printed, Assert.Single(again.Written));
    }

    [Fact]
    public void Should_refuse_a_seed_that_is_no_integer()
    {
        var e = Assert.Throws<ArgumentException>(() => TestSeed.Random(new Lines(), _ => "tuesday"));
        Assert.Contains("DISTCLIP_TEST_SEED must be an integer seed", e.Message);
    }
}
