// `distclip train`: the embedded trainer (coordinator and N workers in this process).
using System.CommandLine;
using DistClip.Cli.Hosting;

namespace DistClip.Cli.Commands;

public static class TrainCommand
{
    public static Command Create()
    {
        var o = new TrainingOptions(workerOptions: true);
        var command = new Command("train", "Train on this machine: a coordinator and --workers worker actors in one process.");
        o.AddTo(command);
        command.SetAction(parse => Program.Guarded(() => Run(o.Read(parse))));
        return command;
    }

    private static int Run(TrainingSettings settings)
    {
        var train = EmbeddedTrainer.LoadTrainSplit(settings);
        long totalSteps = TrainingConsole.Announce("train", settings, train, settings.Workers);
        using var progress = new ProgressLog(Console.Out, settings.LogEvery, totalSteps, settings.MetricsPath);
        var result = EmbeddedTrainer.RunAsync(settings, progress, train).GetAwaiter().GetResult();
        TrainingConsole.Finish(settings, result);
        return 0;
    }
}
