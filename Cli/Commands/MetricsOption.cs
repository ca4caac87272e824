// `--metrics-port`: the node's HTTP endpoint of /metrics, /healthz and /readyz, on train, coordinator and worker.
using System.CommandLine;
using DistClip.Hosting;
using DistClip.Hosting.Metrics;

namespace DistClip.Cli.Commands;

/// <summary>The option (or <c>DISTCLIP_METRICS_PORT</c>), and the endpoint it starts; off by default.</summary>
/// <param name="where">Whose address the endpoint listens on, for the help text.</param>
public sealed class MetricsOption(string where)
{
    private readonly Option<int?> _port = new("--metrics-port")
    {
        Description = $"Serve Prometheus metrics (/metrics), liveness (/healthz) and readiness (/readyz) over HTTP on this port of {where} (env {EnvironmentNames.MetricsPort}; default off).",
        DefaultValueFactory = _ => EnvironmentValues.Process.IntOrNull(EnvironmentNames.MetricsPort),
    };

    public void AddTo(Command command) => command.Options.Add(_port);

    /// <summary>The endpoint, listening on <paramref name="hostname"/>; null when neither the option nor the variable is given.</summary>
    /// <exception cref="ArgumentException">The port is out of range or taken (<see cref="MetricsEndpoint.Start"/>).</exception>
    public MetricsEndpoint? Start(ParseResult parse, string hostname) => parse.GetValue(_port) is { } port ? MetricsEndpoint.Start(hostname, port) : null;
}
