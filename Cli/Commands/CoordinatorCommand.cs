// `distclip coordinator`: the coordinator node of a multi-node training cluster.
using System.CommandLine;
using DistClip.Hosting;

namespace DistClip.Cli.Commands;

public static class CoordinatorCommand
{
    public static Command Create()
    {
        var training = new TrainingOptions(workerOptions: false);
        var node = new NodeOptions();
        var cluster = new ClusterCoordinatorOptions();
        var metrics = new MetricsOption("--hostname's address");
        var linger = new Option<int>("--linger") { Description = "Seconds to stay in the cluster after the run has completed, telling workers that ask to join that it is over (they exit 0 instead of waiting for a coordinator); a signal ends the wait (env DISTCLIP_LINGER; default 0).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.Linger, 0) };
        var command = new Command("coordinator", "Run the coordinator of a training cluster: it plans steps, reduces, clips and steps; workers join it.") { linger };
        cluster.AddTo(command);
        training.AddTo(command);
        node.AddTo(command);
        metrics.AddTo(command);
        command.SetAction(p => CommandGuard.Run(() =>
        {
            using var stop = new StopRequest().ListenToSignals();
            var settings = cluster.Apply(p, training.Read(p));
            int min = cluster.ReadMinWorkers(p);
            int lingerSeconds = p.GetValue(linger);
            if (lingerSeconds < 0) throw new ArgumentException($"--linger (or {EnvironmentNames.Linger}) must be 0 or more seconds (got {lingerSeconds}).");
            var nodeSettings = node.Read(p, "coordinator") with { LogLevel = settings.LogLevel };
            var afterRun = new CompletedRunLinger(TimeSpan.FromSeconds(lingerSeconds));
            using var endpoint = metrics.Start(p, nodeSettings.Hostname);
            try
            {
                TrainingPipeline.RunAsync("coordinator", settings, ResolvedOptions.ToYaml(p), RunInputs.LoadTrainSplit(settings),
                    TrainingTarget.ClusterJob(nodeSettings, min, Console.Out, afterRun, endpoint), Console.Out, stop).GetAwaiter().GetResult();
            }
            finally { afterRun.LeftAsync().GetAwaiter().GetResult(); }   // a node that vanishes without leaving looks lost to its workers
            return 0;
        }));
        return command;
    }
}
