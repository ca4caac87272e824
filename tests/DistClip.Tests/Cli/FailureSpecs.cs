// What a user or the environment can cause ends a run with one line and the exit code that says why; trained weights are never lost.
using DistClip.Core;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using DistClip.Models;
using DistClip.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cli;

/// <summary>
/// Through the real CLI: outputs that cannot be written are refused before the first step (exit 2), a
/// write that fails mid-run (a full disk) or a coordinator cut off from its workers ends the run with its
/// weights saved (exit 1), SIGINT and SIGTERM stop at a step boundary (exit 130, 143), a taken port or
/// an unresolvable hostname is one line (exit 2). Never a stack trace. Needs root (tmpfs mounts, namespaces).
/// </summary>
public sealed class FailureSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-failure-").FullName;
    private readonly List<string> _mounts = [];

    public void Dispose()
    {
        foreach (var mount in _mounts) SystemCommand.Run("umount", $"--lazy {mount}");
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A tmpfs mounted with <paramref name="options"/> (ro; size=64k) inside the test's folder.</summary>
    private string Mount(string options)
    {
        var dir = Path.Combine(_dir, $"mount{_mounts.Count}");
        Directory.CreateDirectory(dir);
        SystemCommand.Run("mount", $"-t tmpfs -o {options} tmpfs {dir}");
        _mounts.Add(dir);
        return dir;
    }

    private static string OneLine(CliRun run, int exitCode)
    {
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}, expected {exitCode}\nstdout:\n{run.Stdout}\nstderr:\n{run.Stderr}");
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.Stderr}");
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
        Assert.DoesNotContain("Exception", run.Stderr);
        return lines[0];
    }

    /// <summary>The weights a one-line report says it saved: they load into the run's model, and their metadata names the step.</summary>
    private static long SavedWeights(string line, string model, out string path)
    {
        var match = Regex.Match(line, @"the weights of step (\d+) were saved to (\S+)\.$");
        Assert.True(match.Success, $"the line does not say where the weights are: {line}");
        path = match.Groups[2].Value;
        using var module = Models.Zoo.ModelZoo.Create(new Core.ModelSpec(model, 1, 28, 28, 10), 0);
        Safetensors.Load(module, path);
        return long.Parse(match.Groups[1].Value);
    }

    private static readonly string[] SmallRun = ["train", "--dataset", "synthetic", "--model", "mlp"];

    [Theory]
    [InlineData("--save", "READONLY/w.safetensors", "--save")]
    [InlineData("--metrics", "READONLY/m.jsonl", "--metrics")]
    [InlineData("--run-dir", "READONLY/run", "--run-dir")]
    [InlineData("--metrics", "FOLDER", "is a folder")]
    [InlineData("--save", "FOLDER", "is a folder")]
    public void Should_refuse_an_output_it_cannot_write_before_the_first_step(string option, string path, string named)
    {
        path = path.Replace("READONLY", Mount("ro,size=64k")).Replace("FOLDER", _dir);
        var run = CliProcess.Run(Timeout, [.. SmallRun, "--steps", "50", "--log-every", "1", option, path]);
        var line = OneLine(run, 2);
        Assert.Contains(named, line);
        Assert.DoesNotContain("step ", run.Stdout);  // not one step was trained
    }

    [Fact]
    public void Should_create_a_missing_folder_for_the_weights()
    {
        var weights = Path.Combine(_dir, "new", "folder", "w.safetensors");
        var run = CliProcess.Run(Timeout, [.. SmallRun, "--steps", "5", "--no-eval", "--save", weights]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.True(File.Exists(weights));
    }

    [Fact]
    public void Should_end_a_run_whose_disk_fills_up_with_its_weights_saved_elsewhere()
    {
        var full = Mount("size=64k");
        var run = CliProcess.Run(Timeout, [.. SmallRun, "--steps", "5000", "--metrics", Path.Combine(full, "m.jsonl"), "--save", Path.Combine(full, "w.safetensors")]);
        var line = OneLine(run, 1);
        output.WriteLine(line);
        Assert.Contains("metrics file", line);
        Assert.Contains("No space left on device", line);
        long step = SavedWeights(line, "mlp", out var path);
        Assert.InRange(step, 1, 4999);
        Assert.False(path.StartsWith(full, StringComparison.Ordinal), "the weights were reported saved on the full disk");
        File.Delete(path);
    }

    /// <summary>
    /// A run folder on a disk that fills up mid-run: the coordinator stops at the checkpoint it could not write, keeps
    /// the checkpoints it wrote, saves the weights — and exits 1 (it exited 0, and a Job took the stopped run for a
    /// finished one); its worker, told the run did not complete, exits 1 too.
    /// </summary>
    [Fact]
    public void Should_exit_1_on_every_node_when_the_run_folder_fills_up()
    {
        var full = Mount("size=3m");   // room for one checkpoint of mlp (2 x 0.8 MB) and the small files, not for two
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.Start("coordinator", "--port", $"{port}", "--dataset", "synthetic", "--model", "mlp", "--steps", "400",
            "--checkpoint-every", "50", "--run-dir", Path.Combine(full, "run"), "--metrics", Path.Combine(_dir, "m.jsonl"), "--save", Path.Combine(_dir, "w.safetensors"), "--no-eval");
        using var worker = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}");
        var line = OneLine(coordinator.Finish(Timeout), 1);
        output.WriteLine(line);
        Assert.Contains("could not be written", line);
        long step = SavedWeights(line, "mlp", out _);
        Assert.InRange(step, 50, 399);
        Assert.NotEmpty(Directory.GetDirectories(Path.Combine(full, "run", "checkpoints"), "step-*"));
        var served = worker.Finish(Timeout);
        Assert.True(served.ExitCode == 1, $"worker exit {served.ExitCode}, expected 1\n{served.Stdout}\n{served.Stderr}");
        Assert.Contains("the coordinator ended the run before its last step", served.Stderr);
    }

    /// <summary>
    /// One run per run folder: a second coordinator on the folder of a running one is refused at once, naming the folder
    /// and the holder (it ran and exited 0 before, interleaving checkpoints with the first); once the first is killed
    /// with SIGKILL, its lock dies with it and a coordinator on the folder resumes from its checkpoint.
    /// </summary>
    [Fact]
    public void Should_refuse_a_second_coordinator_on_a_run_folder_in_use_and_not_after_the_holder_is_killed()
    {
        var runDir = Path.Combine(_dir, "run");
        string[] Coordinator(int port) => ["coordinator", "--port", $"{port}", "--dataset", "synthetic", "--model", "mlp", "--steps", "100000",
            "--checkpoint-every", "20", "--log-every", "20", "--run-dir", runDir, "--resume", "auto", "--no-eval"];
        int port = LoopbackPorts.Free();
        using var first = CliProcess.Start(Coordinator(port));
        using var worker = CliProcess.Start("worker", "--seed-nodes", $"akka.tcp://distclip@127.0.0.1:{port}", "--coordinator-timeout", "20");
        first.WaitForOutput("checkpoint after step 20 written", 1, Timeout);

        var second = CliProcess.Run(Timeout, Coordinator(LoopbackPorts.Free()));
        var line = OneLine(second, 1);
        output.WriteLine(line);
        Assert.Contains($"--run-dir {runDir} is in use by another DistClip run (host {Environment.MachineName}, process {first.ProcessId}, started ", line);
        Assert.DoesNotContain("step ", second.Stdout);   // it trained nothing

        first.Kill();   // SIGKILL: no chance to release anything
        first.Finish(Timeout);
        int again = LoopbackPorts.Free();
        using var third = CliProcess.Start(Coordinator(again));
        third.WaitForOutput("resuming from ", 1, Timeout);
        third.Signal("TERM");
        var resumed = third.Finish(Timeout);
        Assert.DoesNotContain("in use by another", resumed.Stderr);
    }

    [Fact]
    public void Should_stop_at_a_step_boundary_on_SIGINT_and_save_the_weights()
    {
        var weights = Path.Combine(_dir, "w.safetensors");
        using var train = CliProcess.Start([.. SmallRun, "--steps", "100000", "--save", weights, "--log-every", "50"]);
        train.WaitForOutput("step     50/", 1, Timeout);
        train.Signal("INT");
        var line = OneLine(train.Finish(Timeout), 130);
        Assert.Contains("interrupted (SIGINT)", line);
        long step = SavedWeights(line, "mlp", out var path);
        Assert.Equal(weights, path);
        Assert.InRange(step, 50, 99_999);
    }


    [Fact]
    public void Should_stop_a_coordinator_waiting_for_workers_on_SIGTERM()
    {
        using var coordinator = CliProcess.Start("coordinator", "--port", $"{LoopbackPorts.Free()}", "--dataset", "synthetic", "--model", "mlp", "--steps", "10");
        coordinator.WaitForOutput("waiting for 1 worker actor(s)", 1, Timeout);
        coordinator.Signal("TERM");
        var line = OneLine(coordinator.Finish(Timeout), 143);
        Assert.Contains("interrupted (SIGTERM)", line);
        Assert.Contains("nothing was trained yet", line);
    }

    [Fact]
    public void Should_let_a_worker_leave_on_SIGTERM_while_the_run_goes_on()
    {
        int port = LoopbackPorts.Free();
        var seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        using var coordinator = CliProcess.Start("coordinator", "--port", $"{port}", "--min-workers", "2", "--dataset", "synthetic", "--model", "mlp",
            "--steps", "600", "--log-every", "50", "--no-eval");
        using var staying = CliProcess.Start("worker", "--seed-nodes", seed);
        using var leaving = CliProcess.Start("worker", "--seed-nodes", seed);
        coordinator.WaitForOutput("step     50/", 1, Timeout);
        leaving.Signal("TERM");
        var line = OneLine(leaving.Finish(Timeout), 143);
        Assert.Contains("this worker left the cluster", line);
        var run = coordinator.Finish(Timeout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("done: 600 steps", run.Stdout);
        Assert.Equal(0, staying.Finish(TimeSpan.FromSeconds(60)).ExitCode);
    }

    [Fact]
    public void Should_refuse_a_port_in_use_with_one_line()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        int port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var line = OneLine(CliProcess.Run(Timeout, "coordinator", "--port", $"{port}", "--dataset", "synthetic", "--model", "mlp", "--steps", "5"), 2);
        Assert.Contains($"--port {port}", line);
        Assert.Contains("already in use", line);
    }

    [Theory]
    [InlineData("coordinator")]
    [InlineData("worker")]
    public void Should_refuse_an_unresolvable_hostname_with_one_line(string command)
    {
        string[] args = command == "worker" ? ["--seed-nodes", "akka.tcp://distclip@127.0.0.1:4053"] : ["--dataset", "synthetic", "--steps", "5"];
        var line = OneLine(CliProcess.Run(Timeout, [command, "--hostname", "no-such-host.invalid", .. args]), 2);
        Assert.Contains("--hostname 'no-such-host.invalid'", line);
    }
}
