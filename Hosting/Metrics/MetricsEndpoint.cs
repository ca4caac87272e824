// A node's HTTP endpoint for operators: Prometheus metrics, liveness and readiness on one port.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace DistClip.Hosting.Metrics;

/// <summary>
/// Serves over HTTP, on one port of the node's bind address (<c>--metrics-port</c>): <c>/metrics</c>, the Prometheus text
/// format of this node's own <see cref="Registry"/> (never prometheus-net's static default, so that several nodes in one
/// process keep theirs apart); <c>/healthz</c>, 200 while the node is alive (<see cref="HealthState.AliveAsync"/>), else 503;
/// <c>/readyz</c>, 200 while it is ready (<see cref="HealthState.Ready"/>), else 503. Whatever the node's links move is
/// exported from <see cref="Traffic"/>. The server is Kestrel with nothing configured but this one listener and a cap of
/// <see cref="MaxConnections"/>: it reads no configuration file or variable and logs nothing. No TLS, no authentication:
/// the port is for the cluster's own network. Disposing it stops the listener.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private const string PrometheusText = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Connections served at once (Prometheus, the kubelet's probes, an operator's curl); Kestrel closes the rest.</summary>
    public const int MaxConnections = 64;

    private readonly WebApplication _server;

    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public HealthState Health { get; } = new();

    /// <summary>Where the node's links count their bytes (<see cref="Exchange.ExchangeSettings.Traffic"/>).</summary>
    public Exchange.LinkTraffic Traffic { get; } = new();

    /// <summary>How long a connection may stay open without a request (Kestrel's keep-alive and request-headers timeouts).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    private MetricsEndpoint(System.Net.IPAddress address, int port)
    {
        LinkTrafficMetrics.Export(Registry, Traffic);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, port);
            kestrel.Limits.MaxConcurrentConnections = MaxConnections;
            // Idle connections go after IdleTimeout, not Kestrel's 130 s: a scraper or probe that opens connections and
            // sends nothing cannot hold the cap for long, and the liveness probe gets through again.
            kestrel.Limits.KeepAliveTimeout = IdleTimeout;
            kestrel.Limits.RequestHeadersTimeout = IdleTimeout;
            kestrel.AddServerHeader = false;
        });
        _server = builder.Build();
        _server.Run(AnswerAsync);
    }

    /// <summary>Starts the endpoint on <paramref name="hostname"/> (the node's bind address), port <paramref name="port"/>.</summary>
    /// <exception cref="ArgumentException">The port is not in [1, 65535] or is taken, or the hostname is not this machine's (one line naming the option).</exception>
    public static MetricsEndpoint Start(string hostname, int port)
    {
        string option = $"--metrics-port (or {EnvironmentNames.MetricsPort})";
        if (port is < 1 or > 65535) throw new ArgumentException($"{option} must be in [1, 65535] (got {port}).");
        var address = BindCheck.Check(hostname, port, $"--metrics-port {port} (or {EnvironmentNames.MetricsPort})");
        var endpoint = new MetricsEndpoint(address, port);
        try { endpoint._server.StartAsync().GetAwaiter().GetResult(); }
        catch
        {
            endpoint._server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;   // taken since the check a moment ago: Kestrel's IOException says so
        }
        return endpoint;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/metrics":
                response.ContentType = PrometheusText;
                await Registry.CollectAndExportAsTextAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
                break;
            case "/healthz":
                await SayAsync(response, await Health.AliveAsync().ConfigureAwait(false), "alive", "not alive: the actor system does not answer").ConfigureAwait(false);
                break;
            case "/readyz":
                await SayAsync(response, Health.Ready, "ready", "not ready").ConfigureAwait(false);
                break;
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                await response.WriteAsync("not found: /metrics, /healthz, /readyz\n").ConfigureAwait(false);
                break;
        }
    }

    private static Task SayAsync(HttpResponse response, bool ok, string yes, string no)
    {
        response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync((ok ? yes : no) + "\n");
    }

    /// <summary>Stops listening; a request in progress gets a few seconds to finish.</summary>
    public void Dispose()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        _server.StopAsync(deadline.Token).GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
