// A running cluster scraped through the real CLI: readiness, liveness and the metrics of a run in progress.
using DistClip.Hosting;
using DistClip.Tests.Cli;
using Xunit;

namespace DistClip.Tests.Metrics;

/// <summary>
/// Through the real CLI, as an operator's Prometheus and Kubernetes' probes meet it: a worker process started before its
/// coordinator is alive but not ready; once a coordinator process is up it joins, and both are ready; mid-run the
/// coordinator's <c>/metrics</c> has the step, the pre-clip norm and clip coefficient (finite), one worker present and a
/// checkpoint's age, the worker's its admission, the steps it served and the bytes of its link; <c>distclip health</c>
/// says the worker is alive. Stopped by SIGTERM, both processes end with their one line and no exception. And the same
/// endpoint on <c>train</c>, the embedded trainer. The runs are long (a million steps of mlp on synthetic data), ended by
/// a signal once scraped: nothing depends on how fast this machine trains.
/// </summary>
public sealed class ClusterMetricsSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static readonly string[] LongRun = ["--dataset", "synthetic", "--model", "mlp", "--steps", "1000000", "--clip", "norm:1", "--no-eval", "--log-every", "1000"];

    [Fact]
    public void Should_be_ready_once_joined_and_serve_the_metrics_of_a_running_cluster()
    {
        var folder = Directory.CreateTempSubdirectory("distclip-metrics-").FullName;
        try
        {
            int akka = LoopbackPorts.Free(), coordinatorMetrics = LoopbackPorts.Free(), workerMetrics = LoopbackPorts.Free();
            using var worker = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{akka}", "--metrics-port", $"{workerMetrics}");
            // Its worker actor is there and asking to join (joined 0): alive, not ready.
            var joining = Scrape.Until(workerMetrics, "/metrics", (_, body) => Scrape.Samples(body, "distclip_worker_joined").Count == 1, Timeout, "no worker actor on the worker node");
            Assert.Equal(0, Scrape.Samples(joining, "distclip_worker_joined")[0].Value);
            Assert.Equal(200, Scrape.Get(workerMetrics, "/healthz").Status);
            var (notYet, why) = Scrape.Get(workerMetrics, "/readyz");
            Assert.True(notYet == 503, $"a worker whose seed node is not up yet answered /readyz {notYet}: {why}");

            using var coordinator = CliProcess.Start(["coordinator", "--port", $"{akka}", "--metrics-port", $"{coordinatorMetrics}", "--min-workers", "1", .. LongRun,
                "--save", Path.Combine(folder, "weights.safetensors"), "--checkpoint-dir", Path.Combine(folder, "checkpoints"), "--checkpoint-every", "200"]);
            Scrape.Until(coordinatorMetrics, "/readyz", (status, _) => status == 200, Timeout, "the coordinator never became ready");
            Scrape.Until(workerMetrics, "/readyz", (status, _) => status == 200, Timeout, "the worker never became ready (joined)");

            // Mid-run: past its first checkpoint, so that every series is there.
            var page = Scrape.Until(coordinatorMetrics, "/metrics", (_, body) => Scrape.Samples(body, "distclip_checkpoint_age_seconds").Count == 1, Timeout,
                "no checkpoint age on the coordinator");
            Assert.True(Scrape.Value(page, "distclip_step") > 0, page);
            foreach (var name in new[] { "distclip_grad_norm", "distclip_clip_coefficient", "distclip_checkpoint_age_seconds", "distclip_samples_per_second" })
                Assert.True(double.IsFinite(Scrape.Value(page, name)), $"{name} is not finite:\n{page}");
            Assert.InRange(Scrape.Value(page, "distclip_clip_coefficient"), 0, 1);
            Assert.Equal(1, Scrape.Value(page, "distclip_workers"));
            Assert.Equal(0, Scrape.Value(page, "distclip_skipped_steps_total"));
            Assert.True(Scrape.Value(page, "distclip_step_seconds_count") > 0, page);
            Assert.Contains(Scrape.Samples(page, "distclip_link_sent_bytes_total"), s => s.Value > 0 && s.Labels.Contains("worker-0", StringComparison.Ordinal));
            Assert.Contains(Scrape.Samples(page, "distclip_link_received_bytes_total"), s => s.Value > 0);

            var workerPage = Scrape.Get(workerMetrics, "/metrics").Body;
            Assert.Equal(1, Assert.Single(Scrape.Samples(workerPage, "distclip_worker_joined")).Value);
            Assert.True(Assert.Single(Scrape.Samples(workerPage, "distclip_worker_steps_served_total")).Value > 0, workerPage);
            Assert.Contains(Scrape.Samples(workerPage, "distclip_link_sent_bytes_total"), s => s.Value > 0);
            Assert.DoesNotContain("distclip_step ", workerPage);   // each node its own registry, though both are prometheus-net's

            foreach (var port in new[] { coordinatorMetrics, workerMetrics })
                Assert.Equal(200, Scrape.Get(port, "/healthz").Status);
            var probe = CliProcess.Run(Timeout, "health", "--port", $"{workerMetrics}");
            Assert.True(probe.ExitCode == 0, $"distclip health exit {probe.ExitCode}\n{probe.Stdout}\n{probe.Stderr}");

            worker.Signal("TERM");
            var workerEnd = worker.Finish(Timeout);
            Assert.True(workerEnd.ExitCode == ExitCodes.Terminated, $"worker exit {workerEnd.ExitCode}\n{workerEnd.Stdout}\n{workerEnd.Stderr}");
            coordinator.Signal("TERM");
            var coordinatorEnd = coordinator.Finish(Timeout);
            Assert.True(coordinatorEnd.ExitCode == ExitCodes.StoppedResumable, $"coordinator exit {coordinatorEnd.ExitCode}\n{coordinatorEnd.Stdout}\n{coordinatorEnd.Stderr}");
            foreach (var end in new[] { workerEnd, coordinatorEnd }) EndedCleanly(end);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Should_serve_the_metrics_of_the_embedded_trainer()
    {
        var folder = Directory.CreateTempSubdirectory("distclip-metrics-").FullName;
        try
        {
            int metrics = LoopbackPorts.Free();
            using var train = CliProcess.Start(["train", "--metrics-port", $"{metrics}", .. LongRun, "--save", Path.Combine(folder, "weights.safetensors")]);
            Scrape.Until(metrics, "/readyz", (status, _) => status == 200, Timeout, "train never became ready");
            var page = Scrape.Until(metrics, "/metrics", (_, body) => Scrape.Samples(body, "distclip_step").SingleOrDefault().Value > 0, Timeout, "train took no step");
            Assert.True(double.IsFinite(Scrape.Value(page, "distclip_grad_norm")), page);
            Assert.Equal(2, Scrape.Value(page, "distclip_workers"));   // train's default --workers
            Assert.Empty(Scrape.Samples(page, "distclip_checkpoint_age_seconds"));   // no checkpoints asked for
            Assert.Equal(200, Scrape.Get(metrics, "/healthz").Status);

            train.Signal("INT");
            var end = train.Finish(Timeout);
            Assert.True(end.ExitCode == ExitCodes.Interrupted, $"train exit {end.ExitCode}\n{end.Stdout}\n{end.Stderr}");
            EndedCleanly(end);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>One line on stderr (why it stopped), and no exception anywhere in the output.</summary>
    private static void EndedCleanly(CliRun end)
    {
        var errors = end.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errors.Length == 1, $"stderr should be the one line of the stop:\n{end.Stderr}");
        Assert.DoesNotContain("Exception", end.Stdout + end.Stderr);
    }
}
