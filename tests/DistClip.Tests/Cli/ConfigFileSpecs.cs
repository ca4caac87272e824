// --config job.yaml through the real CLI: round trip, override order, unknown key, wrong type.
using Xunit;

namespace DistClip.Tests.Cli;

public sealed class ConfigFileSpecs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Path(string name) => System.IO.Path.Combine(_dir, name);

    private static Dictionary<string, string> Yaml(string path) =>
        File.ReadAllLines(path).Select(l => l.Split(": ", 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    [Fact]
    public void Should_reproduce_a_run_from_its_resolved_config_with_flags_overriding_the_file()
    {
        var first = CliProcess.Run(Timeout, "train", "--dataset", "synthetic", "--model", "mlp", "--hidden", "48", "--steps", "12",
            "--clip", "agc:0.05", "--global-batch", "40", "--no-shuffle", "--run-dir", Path("a"));
        Assert.True(first.ExitCode == 0, first.Stderr);

        var second = CliProcess.Run(Timeout, "train", "--config", Path("a/config.yaml"), "--steps", "6", "--run-dir", Path("b"));
        Assert.True(second.ExitCode == 0, second.Stderr);

        var a = Yaml(Path("a/config.yaml"));
        var b = Yaml(Path("b/config.yaml"));
        Assert.Equal("12", a["steps"]);
        Assert.Equal("6", b["steps"]);                  // the flag wins over the file
        Assert.Equal("'agc:0.05'", b["clip"]);          // the rest comes from the file
        Assert.Equal("true", b["no-shuffle"]);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.All(a.Keys.Except(["steps", "run-dir"]), k => Assert.Equal(a[k], b[k]));
        Assert.Equal(6, File.ReadAllLines(Path("b/metrics.jsonl")).Length);
    }

    [Theory]
    [InlineData("modle: lenet", "unknown key 'modle'")]
    [InlineData("workers: two", "two")]
    [InlineData("no-shuffle: maybe", "key 'no-shuffle' must be true or false")]
    [InlineData("workers:\n  - 1\n  - 2", "key 'workers' must have a single value")]
    [InlineData("clip: 'agc:x'", "'agc:x'")]
    [InlineData("steps: many", "for option '--steps' as a whole number")]
    public void Should_reject_a_bad_file_naming_the_key(string yaml, string expected)
    {
        File.WriteAllText(Path("job.yaml"), "dataset: synthetic\n" + yaml + "\n");
        var run = CliProcess.Run(Timeout, "train", "--config", Path("job.yaml"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
