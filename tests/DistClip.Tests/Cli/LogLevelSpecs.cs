// One log level for DistClip and Akka together: --log-level, or DISTCLIP_LOG_LEVEL; a bad one is refused naming where it came from.
using Xunit;

namespace DistClip.Tests.Cli;

public sealed class LogLevelSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly string[] SmallRun = ["train", "--dataset", "synthetic", "--model", "mlp", "--steps", "3", "--no-eval"];

    private static int LinesAt(string level, CliRun run) => (run.Stdout + run.Stderr).Split('\n').Count(l => l.StartsWith($"[{level}]", StringComparison.Ordinal));

    [Fact]
    public void Should_print_the_actors_info_lines_only_at_log_level_info()
    {
        var quiet = CliProcess.Run(Timeout, SmallRun);
        var chatty = CliProcess.Run(Timeout, [.. SmallRun, "--log-level", "info"]);
        using var fromEnvironment = CliProcess.StartWith(new Dictionary<string, string> { ["DISTCLIP_LOG_LEVEL"] = "info" }, SmallRun);
        var environment = fromEnvironment.Finish(Timeout);
        Assert.All(new[] { quiet, chatty, environment }, run => Assert.True(run.ExitCode == 0, run.Stderr));
        Assert.Equal(0, LinesAt("INFO", quiet));
        Assert.Contains("Training starts with 2 workers", chatty.Stdout);   // the coordinator actor's own line
        Assert.True(LinesAt("INFO", chatty) > 0 && LinesAt("INFO", environment) > 0,
            $"info lines: --log-level info {LinesAt("INFO", chatty)}, DISTCLIP_LOG_LEVEL=info {LinesAt("INFO", environment)}");
    }

    [Theory]
    [InlineData("train")]
    [InlineData("worker")]
    public void Should_refuse_an_unknown_level_naming_the_option(string command)
    {
        string[] args = command == "worker" ? ["worker", "--seed-nodes", "akka.tcp://distclip@127.0.0.1:4053"] : SmallRun;
        var run = CliProcess.Run(Timeout, [.. args, "--log-level", "loud"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("distclip: --log-level must be one of debug, info, warning, error, off (got 'loud').", run.Stderr.Trim());

        using var fromEnvironment = CliProcess.StartWith(new Dictionary<string, string> { ["DISTCLIP_LOG_LEVEL"] = "loud" }, args);
        var environment = fromEnvironment.Finish(Timeout);
        Assert.Equal(2, environment.ExitCode);
        Assert.Contains("DISTCLIP_LOG_LEVEL must be one of", environment.Stderr);
    }
}
