// --metrics-port's bad values are one line and exit 2; an endpoint keeps its own registry and stops listening when disposed.
using System.Net;
using System.Net.Sockets;
using DistClip.Hosting;
using DistClip.Hosting.Metrics;
using DistClip.Tests.Cli;
using Xunit;

namespace DistClip.Tests.Metrics;

public sealed class MetricsPortSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("coordinator", "0", false)]
    [InlineData("worker", "65536", true)]
    [InlineData("train", "-1", false)]
    public void Should_refuse_a_port_out_of_range_in_one_line_naming_the_option(string command, string port, bool fromEnvironment)
    {
        string[] args = command == "worker" ? ["worker", "--seed-nodes", "akka.tcp://distclip@127.0.0.1:4053"] : [command, "--dataset", "synthetic", "--model", "mlp", "--steps", "1"];
        using var process = fromEnvironment
            ? CliProcess.StartWith(new Dictionary<string, string> { [EnvironmentNames.MetricsPort] = port }, args)
            : CliProcess.Start([.. args, "--metrics-port", port]);
        var run = process.Finish(Timeout);
        Assert.True(run.ExitCode == ExitCodes.BadInput, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal($"distclip: --metrics-port (or {EnvironmentNames.MetricsPort}) must be in [1, 65535] (got {port}).", run.Stderr.Trim());
    }

    [Fact]
    public void Should_refuse_a_port_in_use_in_one_line_naming_the_option()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var run = CliProcess.Run(Timeout, "train", "--metrics-port", $"{port}", "--dataset", "synthetic", "--model", "mlp", "--steps", "1");
        Assert.True(run.ExitCode == ExitCodes.BadInput, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal($"distclip: --metrics-port {port} (or {EnvironmentNames.MetricsPort}): 127.0.0.1:{port} is already in use by another process; choose another port.", run.Stderr.Trim());
        Assert.DoesNotContain("resolved configuration", run.Stdout);   // refused before the run starts
    }

    [Fact]
    public void Should_keep_each_endpoints_metrics_apart_and_stop_listening_when_disposed()
    {
        int firstPort = LoopbackPorts.Free(), secondPort = LoopbackPorts.Free();
        var first = MetricsEndpoint.Start("127.0.0.1", firstPort);
        using (var second = MetricsEndpoint.Start("127.0.0.1", secondPort))
        {
            Prometheus.Metrics.WithCustomRegistry(first.Registry).CreateGauge("distclip_spec_only_first", "a metric of the first endpoint").Set(7);
            Assert.Equal(7, Scrape.Value(Scrape.Get(firstPort, "/metrics").Body, "distclip_spec_only_first"));
            Assert.Empty(Scrape.Samples(Scrape.Get(secondPort, "/metrics").Body, "distclip_spec_only_first"));
            Assert.Equal((200, "alive\n"), Scrape.Get(firstPort, "/healthz"));   // no actor system yet: the process answers
            Assert.Equal((503, "not ready\n"), Scrape.Get(firstPort, "/readyz"));
            Assert.Equal(404, Scrape.Get(firstPort, "/other").Status);
            first.Dispose();
            Assert.Equal(0, Scrape.Get(firstPort, "/healthz").Status);   // nothing listens there any more
            Assert.Equal(200, Scrape.Get(secondPort, "/healthz").Status);
        }
        using var again = new TcpListener(IPAddress.Loopback, firstPort);   // the port is free for another process
        again.Start();
    }

    [Fact]
    public void Should_close_connections_beyond_its_cap_and_answer_again_once_they_are_gone()
    {
        int port = LoopbackPorts.Free();
        using var endpoint = MetricsEndpoint.Start("127.0.0.1", port);
        var held = new List<TcpClient>();
        try
        {
            for (int i = 0; i < MetricsEndpoint.MaxConnections; i++)
            {
                var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                held.Add(client);
            }
            var extra = new TcpClient();
            extra.Connect(IPAddress.Loopback, port);   // the kernel accepts it; Kestrel then closes one of them
            held.Add(extra);
            // Which one depends on the order Kestrel accepts them in, not the order they connected in (a busy machine
            // reorders them). The deadline stays under the endpoint's idle timeout, which would close them all.
            var deadline = DateTime.UtcNow + MetricsEndpoint.IdleTimeout / 2;
            while (!held.Any(LoopbackPorts.IsClosedByPeer))
            {
                Assert.True(DateTime.UtcNow < deadline, $"none of {held.Count} connections was closed: no cap at {MetricsEndpoint.MaxConnections}");
                Thread.Sleep(50);
            }
            Thread.Sleep(500);   // a cap lower than MaxConnections closes more of them, right after
            int closed = held.Count(LoopbackPorts.IsClosedByPeer);
            Assert.True(closed == 1, $"{closed} of {held.Count} connections were closed: the cap is not {MetricsEndpoint.MaxConnections}");
        }
        finally { foreach (var client in held) client.Dispose(); }
        Scrape.Until(port, "/healthz", (status, _) => status == 200, Timeout, "no answer once the held connections were gone");
    }
}
