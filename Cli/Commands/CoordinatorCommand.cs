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
        var metrics = new MetricsOption("--hostname's address");
        var minWorkers = new Option<int>("--min-workers") { Description = "Start training once this many worker actors have joined (env DISTCLIP_MIN_WORKERS).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.MinWorkers, 1) };
        var allowMixed = new Option<bool>("--allow-mixed-compute") { Description = "Admit workers that compute otherwise than the cluster (--threads, CPU kernels, devices), with a warning: the run is then no longer bit-reproducible. Default: such a worker is refused." };
        var linger = new Option<int>("--linger") { Description = "Seconds to stay in the cluster after the run has completed, telling workers that ask to join that it is over (they exit 0 instead of waiting for a coordinator); a signal ends the wait (env DISTCLIP_LINGER; default 0).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.Linger, 0) };
        var command = new Command("coordinator", "Run the coordinator of a training cluster: it plans steps, reduces, clips and steps; workers join it.") { minWorkers, allowMixed, linger };
        training.AddTo(command);
        node.AddTo(command);
        metrics.AddTo(command);
        command.SetAction(p => CommandGuard.Run(() =>
        {
            using var stop = new StopRequest().ListenToSignals();
            var settings = training.Read(p) with { AllowMixedCompute = p.GetValue(allowMixed) };
            int min = p.GetValue(minWorkers);
            if (min < 1) throw new ArgumentException($"--min-workers must be at least 1 (got {min}).");
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
