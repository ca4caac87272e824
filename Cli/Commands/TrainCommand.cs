// `distclip train`: the embedded trainer (coordinator and N workers in this process).
using System.CommandLine;
using DistClip.Hosting;

namespace DistClip.Cli.Commands;

public static class TrainCommand
{
    public static Command Create()
    {
        var o = new TrainingOptions(workerOptions: true);
        var metrics = new MetricsOption($"127.0.0.1 (or of the address in env {EnvironmentNames.Hostname}, when it is set)");
        var command = new Command("train", "Train on this machine: a coordinator and --workers worker actors in one process.");
        o.AddTo(command);
        metrics.AddTo(command);
        command.SetAction(parse => CommandGuard.Run(() =>
        {
            using var stop = new StopRequest().ListenToSignals();
            var settings = o.Read(parse);
            using var endpoint = metrics.Start(parse, EnvironmentValues.Process.Text(EnvironmentNames.Hostname, "127.0.0.1")!);
            TrainingPipeline.RunAsync("train", settings, ResolvedOptions.ToYaml(parse), RunInputs.LoadTrainSplit(settings),
                TrainingTarget.Embedded(settings.Workers, endpoint), Console.Out, stop).GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
