// `distclip health`: asks a node's /healthz, for the container image's HEALTHCHECK (the image has no curl).
using System.CommandLine;
using DistClip.Hosting;

namespace DistClip.Cli.Commands;

public static class HealthCommand
{
    public static Command Create()
    {
        var port = new Option<int?>("--port") { Description = $"The node's --metrics-port (env {EnvironmentNames.MetricsPort}).", DefaultValueFactory = _ => EnvironmentValues.Process.IntOrNull(EnvironmentNames.MetricsPort) };
        var host = new Option<string>("--host") { Description = "The node's address.", DefaultValueFactory = _ => "127.0.0.1" };
        var command = new Command("health", "Ask a node's /healthz (its --metrics-port): exit 0 when it answers 200, 1 otherwise.") { port, host };
        command.SetAction(p => CommandGuard.Run(() =>
        {
            if (p.GetValue(port) is not { } value) throw new ArgumentException($"--port (or {EnvironmentNames.MetricsPort}) is needed: the node's --metrics-port.");
            var url = new UriBuilder("http", p.GetValue(host)!, value, "/healthz").Uri;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
            try
            {
                using var response = http.GetAsync(url).GetAwaiter().GetResult();
                Console.WriteLine($"{url}: {(int)response.StatusCode} {response.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim()}");
                return response.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.Error.WriteLine($"distclip: {url}: no answer ({e.Message.TrimEnd('.')}).");
                return 1;
            }
        }));
        return command;
    }
}
