// A normal end of a cluster run is quiet on every node; a real failure still warns.
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

/// <summary>
/// Through the real CLI: a coordinator and two worker processes over loopback train to the end, and no node's output
/// holds a WARNING or ERROR line (the workers used to end with Akka's "AssociationError" and "Tried to associate with
/// unreachable remote address" about the coordinator that had just left). A worker killed with SIGKILL mid-run is no
/// normal end: the coordinator still warns about it.
/// </summary>
public sealed class QuietEndSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static string[] Coordinator(int port, int steps) =>
        ["coordinator", "--port", $"{port}", "--min-workers", "2", "--dataset", "synthetic", "--model", "mlp", "--steps", $"{steps}", "--log-every", "10", "--no-eval"];

    private static string[] Noise(CliRun run) =>
        (run.Stdout + "\n" + run.Stderr).Split('\n').Where(l => l.Contains("WARNING", StringComparison.Ordinal) || l.Contains("ERROR", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void Should_end_a_normal_run_with_no_warning_or_error_on_any_node()
    {
        // Three runs: which node's remoting notices the coordinator's departure first varies from run to run.
        for (int round = 0; round < 3; round++)
        {
            int port = LoopbackPorts.Free();
            using var coordinator = CliProcess.Start(Coordinator(port, 30));
            using var first = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");
            using var second = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");
            var runs = new[] { ("coordinator", coordinator.Finish(Timeout)), ("first worker", first.Finish(Timeout)), ("second worker", second.Finish(Timeout)) };
            foreach (var (node, run) in runs)
            {
                Assert.True(run.ExitCode == 0, $"{node} exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
                var noise = Noise(run);
                Assert.True(noise.Length == 0, $"round {round}: the {node} logged at the normal end of a run:\n{string.Join("\n", noise)}");
            }
            Assert.Contains("done: 30 steps", runs[0].Item2.Stdout);
        }
    }

    [Fact]
    public void Should_still_warn_about_a_worker_killed_mid_run()
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start(Coordinator(port, 400));
        using var staying = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");
        int killedPort = LoopbackPorts.Free();
        using var killed = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", "--port", $"{killedPort}");
        coordinator.WaitForOutput("step     10/", 1, Timeout);
        killed.Kill();
        var run = coordinator.Finish(Timeout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var noise = Noise(run);
        output.WriteLine(string.Join("\n", noise));
        // Akka's own warning that it cannot reach the killed worker's address: what QuietDepartures must not drop.
        Assert.Contains(noise, l => l.Contains("WARNING", StringComparison.Ordinal) && l.Contains($"127.0.0.1:{killedPort}]", StringComparison.Ordinal)
                                    && (l.Contains("AssociationError", StringComparison.Ordinal) || l.Contains("Tried to associate", StringComparison.Ordinal)));
        Assert.Equal(0, staying.Finish(Timeout).ExitCode);
    }
}
