// Random choices in a test (where to stop or kill a process) come from a seed the test prints, so that a failure can be replayed.
using System.Globalization;
using Xunit.Abstractions;

namespace DistClip.Tests;

public static class TestSeed
{
    /// <summary>The environment variable that replays a run: set it to the seed a failed run printed.</summary>
    public const string Variable = "DISTCLIP_TEST_SEED";

    /// <summary>
    /// A generator seeded from <see cref="Variable"/> when it is set, else from the clock (each run explores another
    /// point); the seed is written to <paramref name="output"/> first, which xunit shows with a failure.
    /// </summary>
    public static Random Random(ITestOutputHelper output, Func<string, string?>? environment = null)
    {
        string? set = (environment ?? Environment.GetEnvironmentVariable)(Variable);
        int seed = set is null ? Environment.TickCount
            : int.TryParse(set, NumberStyles.Integer, CultureInfo.InvariantCulture, out int given) ? given
            : throw new ArgumentException($"{Variable} must be an integer seed, as a test printed it (got '{set}').");
        output.WriteLine($"seed {seed} (replay with {Variable}={seed})");
        return new Random(seed);
    }
}
