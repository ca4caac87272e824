// `distclip worker`: a worker node of a training cluster, one worker actor per local device.
using System.CommandLine;
using DistClip.Hosting;
using DistClip.Worker;

namespace DistClip.Cli.Commands;

public static class WorkerCommand
{
    public static Command Create()
    {
        var node = new NodeOptions();
        var metrics = new MetricsOption("--hostname's address");
        var workers = new Option<int>("--workers", "--devices") { Description = "Worker actors on this node, one per device (env DISTCLIP_WORKERS).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.Workers, 1) };
        var device = new Option<string>("--device") { Description = "cpu, or cuda: workers spread over this node's GPUs (env DISTCLIP_DEVICE).", DefaultValueFactory = _ => EnvironmentValues.Process.Text(EnvironmentNames.Device, "cpu")! };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads per worker (env DISTCLIP_THREADS).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.Threads, 1) };
        var cpus = new Option<string?>("--cpus") { Description = "Pin the worker actors to these CPUs, e.g. 0 or 2,3: worker i takes the i-th run of --threads CPUs; give each worker process of a host its own (env DISTCLIP_CPUS; default: no pinning).", DefaultValueFactory = _ => EnvironmentValues.Process.Text(EnvironmentNames.Cpus) };
        var dataDir = new Option<string?>("--data-dir") { Description = "This node's copy of the data set (env DISTCLIP_DATA_DIR; default: the data set's usual folder).", DefaultValueFactory = _ => EnvironmentValues.Process.Text(EnvironmentNames.DataDir) };
        var coordinatorTimeout = new Option<int>("--coordinator-timeout") { Description = "Seconds to wait for a coordinator (at the start, or after losing it: the node joins the restarted one by itself) before giving up with exit 1 (env DISTCLIP_COORDINATOR_TIMEOUT).", DefaultValueFactory = _ => EnvironmentValues.Process.Int(EnvironmentNames.CoordinatorTimeout, 600) };
        var logLevel = new Option<string?>("--log-level") { Description = $"DistClip's and Akka's log level: {string.Join(", ", LogLevels.Names)} (env {EnvironmentNames.LogLevel}; default {LogLevels.Default})." };
        var sendsNaN = new Option<bool>("--fault-send-nan") { Description = "Fault injection for tests: every gradient sum this worker sends is NaN.", Hidden = true };
        var driftsReplica = new Option<bool>("--fault-drift-replica") { Description = "Fault injection for tests: in the sharded exchange, this worker's replica moves off the run's after every step.", Hidden = true };
        var command = new Command("worker", "Run a worker node: it joins the cluster at --seed-nodes and computes gradients for the coordinator.")
        {
            workers, device, threads, cpus, dataDir, coordinatorTimeout, logLevel, sendsNaN, driftsReplica,
        };
        node.AddTo(command);
        metrics.AddTo(command);
        command.SetAction(p => CommandGuard.Run(() =>
        {
            using var stop = new StopRequest().ListenToSignals();
            int n = p.GetValue(workers), t = p.GetValue(threads);
            if (n < 1) throw new ArgumentException($"--workers must be at least 1 (got {n}).");
            if (t < 1) throw new ArgumentException($"--threads must be at least 1 (got {t}).");
            int waitSeconds = p.GetValue(coordinatorTimeout);
            if (waitSeconds < 1) throw new ArgumentException($"--coordinator-timeout must be at least 1 second (got {waitSeconds}).");
            const string cpusOption = "--cpus (or DISTCLIP_CPUS)";
            var pinned = CpuAffinity.Parse(p.GetValue(cpus), cpusOption) is { } list ? CpuAffinity.Validate(list, n, t, cpusOption) : null;
            var nodeSettings = node.Read(p, "worker") with { LogLevel = LogLevels.Resolve(p.GetValue(logLevel)) };
            using var endpoint = metrics.Start(p, nodeSettings.Hostname);
            try
            {
                ClusterTrainer.RunWorkersAsync(nodeSettings, n, p.GetValue(device)!, t, p.GetValue(dataDir), pinned,
                    TimeSpan.FromSeconds(waitSeconds), Console.WriteLine, stop.Token, p.GetValue(sendsNaN), endpoint, p.GetValue(driftsReplica)).GetAwaiter().GetResult();
            }
            catch (TimeoutException e) { throw new RunEndedEarlyException(e.Message, ExitCodes.RunTimeFailure); }
            if (stop.Reason is { } reason) throw new RunEndedEarlyException($"{reason}; this worker left the cluster (the coordinator re-plans its shards).", stop.ExitCode);
            return 0;
        }));
        return command;
    }
}
