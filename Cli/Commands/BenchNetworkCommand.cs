// `distclip bench-network`: raw TCP vs DistClip's exchange on loopback, and N worker processes vs the embedded trainer.
using System.CommandLine;
using System.Globalization;
using DistClip.Cli.Bench;

namespace DistClip.Cli.Commands;

public static class BenchNetworkCommand
{
    public static Command Create()
    {
        var elements = new Option<string>("--elements") { Description = "Comma-separated parameter counts to exchange.", DefaultValueFactory = _ => "10000000,100000000" };
        var rawBytes = new Option<long>("--raw-bytes") { Description = "Bytes to send in the raw TCP measurement.", DefaultValueFactory = _ => 4_000_000_000 };
        var e2eSteps = new Option<int>("--e2e-steps") { Description = "Steps of the end-to-end comparison (cnn, 2 workers); 0 skips it.", DefaultValueFactory = _ => 60 };
        var e2eTurns = new Option<int>("--e2e-turns") { Description = "Turns of the end-to-end comparison; each configuration is reported by its best.", DefaultValueFactory = _ => 2 };
        var report = new Option<string?>("--report") { Description = "Append the results as Markdown to this file." };
        var serve = new Option<string?>("--serve") { Description = "Internal: run the child side (sink or echo).", Hidden = true };
        var port = new Option<int>("--port") { Description = "Internal: the child's port.", Hidden = true };
        var tls = new Option<string?>("--tls") { Description = "Internal: the echo's certificates for its TLS bulk channel.", Hidden = true };
        var command = new Command("bench-network", "Measure raw TCP on loopback, DistClip's gradient exchange through the real serializer and transport, and worker processes vs the embedded trainer.")
        {
            elements, rawBytes, e2eSteps, e2eTurns, report, serve, port, tls,
        };
        command.SetAction(p => CommandGuard.Run(() =>
        {
            switch (p.GetValue(serve))
            {
                case "sink": NetworkBenchmark.ServeSinkAsync(p.GetValue(port)).GetAwaiter().GetResult(); return 0;
                case "echo": NetworkBenchmark.ServeEchoAsync(p.GetValue(port), p.GetValue(tls)).GetAwaiter().GetResult(); return 0;
                case null: break;
                case var other: throw new ArgumentException($"--serve must be sink or echo (got '{other}').");
            }
            var sizes = p.GetValue(elements)!.Split(',').Select(s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : throw new ArgumentException($"--elements: '{s}' is not a positive whole number.")).ToArray();
            if (p.GetValue(e2eTurns) < 1) throw new ArgumentException($"--e2e-turns must be at least 1 (got {p.GetValue(e2eTurns)}).");
            return NetworkComparison.Run(sizes, p.GetValue(rawBytes), p.GetValue(e2eSteps), p.GetValue(e2eTurns), p.GetValue(report));
        }));
        return command;
    }
}
