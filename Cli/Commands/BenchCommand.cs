// `distclip bench`: samples/s of the embedded trainer against a plain single-process TorchSharp loop, in one run.
using System.CommandLine;
using DistClip.Cli.Bench;

namespace DistClip.Cli.Commands;

public static class BenchCommand
{
    public static Command Create()
    {
        var o = new TrainingOptions(workerOptions: true);
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps before measuring.", DefaultValueFactory = _ => 10 };
        var report = new Option<string?>("--report") { Description = "Append the results as a Markdown section to this file." };
        var command = new Command("bench", "Compare samples/s of the embedded trainer (N workers x T threads) with a single-process TorchSharp loop on the same global batch.")
        {
            warmup, report,
        };
        o.AddTo(command);
        command.SetAction(p => CommandGuard.Run(() => EmbeddedBenchmark.Run(o.Read(p) with { Evaluate = false, LogEvery = int.MaxValue }, p.GetValue(warmup), p.GetValue(report))));
        return command;
    }
}
