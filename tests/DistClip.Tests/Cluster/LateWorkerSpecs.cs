// A worker that starts after the run has completed exits 0 at once: the lingering coordinator tells it the run is over.
using DistClip.Hosting;
using DistClip.Tests.Cli;
using Xunit;

namespace DistClip.Tests.Cluster;

/// <summary>
/// Through the real CLI, as a batch job meets it: a worker pod restarted (or scheduled late) as the run ends must not fail
/// its Job. With <c>coordinator --linger</c>, the coordinator stays in the cluster after a completed run and answers a
/// worker's request to join with the run's end; the worker exits 0 saying so, while the coordinator is still up (it used
/// to wait <c>--coordinator-timeout</c> and exit 1). A signal ends the linger; the completed run still exits 0.
/// </summary>
public sealed class LateWorkerSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Should_tell_a_worker_that_joins_after_the_run_completed_that_it_is_over_and_a_stranger_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("distclip-late-").FullName;
        try
        {
            string secret = Path.Combine(folder, "secret"), other = Path.Combine(folder, "other");
            File.WriteAllText(secret, "the cluster's join secret, 32 bytes or so");
            File.WriteAllText(other, "another cluster's secret, as long as the first");
            int port = LoopbackPorts.Free();
            string seed = $"akka.tcp://distclip@127.0.0.1:{port}";
            string[] Worker(string? secretFile) => secretFile is null ? ["worker", "--seed-nodes", seed] : ["worker", "--seed-nodes", seed, "--secret-file", secretFile];
            // The linger outlasts every wait below: a late worker can only end through the coordinator's answer, not its departure.
            using var coordinator = CliProcess.StartWith(new Dictionary<string, string> { [EnvironmentNames.Linger] = "900" },
                "coordinator", "--port", $"{port}", "--min-workers", "1", "--dataset", "synthetic", "--model", "mlp", "--steps", "5", "--no-eval", "--secret-file", secret);
            using (var first = CliProcess.Start(Worker(secret)))
            {
                var served = first.Finish(Timeout);
                Assert.True(served.ExitCode == 0, $"first worker exit {served.ExitCode}\n{served.Stdout}\n{served.Stderr}");
            }
            coordinator.WaitForOutput("workers that ask to join are told so", 1, Timeout);

            using (var late = CliProcess.Start(Worker(secret)))
            {
                var lateRun = late.Finish(Timeout);
                Assert.True(lateRun.ExitCode == 0, $"late worker exit {lateRun.ExitCode}\n{lateRun.Stdout}\n{lateRun.Stderr}");
                Assert.Contains("the run is over: the coordinator completed it (5 steps)", lateRun.Stdout);
            }
            // Without the secret, or with another: refused as at any time, and told nothing of the run.
            foreach (var stranger in new[] { null, other })
            {
                using var refused = CliProcess.Start(Worker(stranger));
                var run = refused.Finish(Timeout);
                Assert.True(run.ExitCode == ExitCodes.BadInput, $"worker with secret {stranger ?? "none"}: exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
                Assert.DoesNotContain("the run is over", run.Stdout + run.Stderr);
            }
            Assert.False(coordinator.HasExited, "the coordinator left before the late workers were answered: its departure, not its answer, ended them");

            coordinator.Signal("TERM");
            var end = coordinator.Finish(Timeout);
            Assert.True(end.ExitCode == 0, $"coordinator exit {end.ExitCode}\n{end.Stdout}\n{end.Stderr}");
            Assert.Contains("done: 5 steps", end.Stdout);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Should_refuse_a_negative_linger_naming_it()
    {
        var run = CliProcess.Run(Timeout, "coordinator", "--linger", "-1", "--dataset", "synthetic", "--port", $"{LoopbackPorts.Free()}");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("--linger", run.Stderr);
    }
}
