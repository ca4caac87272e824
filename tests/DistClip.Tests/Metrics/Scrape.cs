// What a test reads from a node's metrics endpoint: a status and a body, Prometheus samples, and polling until something holds.
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace DistClip.Tests.Metrics;

public static class Scrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>GET http://127.0.0.1:<paramref name="port"/><paramref name="path"/>: the status code and body, or 0 when nothing answers.</summary>
    public static (int Status, string Body) Get(int port, string path)
    {
        try
        {
            using var response = Http.GetAsync($"http://127.0.0.1:{port}{path}").GetAwaiter().GetResult();
            return ((int)response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException) { return (0, e.Message); }
    }

    /// <summary>Every sample of metric <paramref name="name"/> in a Prometheus text page: its label text (empty without labels) and value.</summary>
    public static List<(string Labels, double Value)> Samples(string page, string name) =>
        Regex.Matches(page, $@"^{Regex.Escape(name)}(?:\{{(?<labels>[^}}]*)\}})? (?<value>\S+)$", RegexOptions.Multiline)
            .Select(m => (m.Groups["labels"].Value, Number(m.Groups["value"].Value))).ToList();

    /// <summary>The one sample of an unlabelled metric; fails naming the metric when it is absent.</summary>
    public static double Value(string page, string name)
    {
        var samples = Samples(page, name);
        if (samples.Count != 1) throw new Xunit.Sdk.XunitException($"{name}: {samples.Count} samples in\n{page}");
        return samples[0].Value;
    }

    private static double Number(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };

    /// <summary>Asks until <paramref name="holds"/> is true, every 250 ms, up to <paramref name="timeout"/>; then fails with <paramref name="what"/> and the last answer.</summary>
    public static string Until(int port, string path, Func<int, string, bool> holds, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (status, body) = Get(port, path);
            if (holds(status, body)) return body;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: {path} on port {port} answered {status} after {timeout.TotalSeconds:F0} s\n{body}");
            Thread.Sleep(250);
        }
    }
}
