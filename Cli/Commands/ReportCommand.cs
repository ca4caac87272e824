// `distclip report RUN_DIR`: PNG plots of a finished run.
using System.CommandLine;
using DistClip.Cli.Reports;

namespace DistClip.Cli.Commands;

public static class ReportCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string>("run-dir") { Description = "A run directory written with --run-dir." };
        var command = new Command("report", "Render PNG plots of a run: loss, global norm before/after clipping with the threshold, clip rate.") { runDir };
        command.SetAction(p => CommandGuard.Run(() =>
        {
            var dir = p.GetValue(runDir)!;
            foreach (var path in RunPlots.Render(RunRecord.Load(dir), Path.Combine(dir, "plots"))) Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }
}
