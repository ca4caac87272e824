// Runs the real distclip executable as a child process, as a user would.
using System.Diagnostics;
using System.Text;

namespace DistClip.Tests.Cli;

public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

/// <summary>A distclip process that is running; <see cref="Finish"/> waits for it (and kills it on time-out).</summary>
public sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly string _commandLine;

    /// <summary>The process id (of <c>ip netns exec</c>'s child only when started without a namespace).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    internal RunningCli(Process process, string commandLine)
    {
        (_process, _commandLine) = (process, commandLine);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Waits until the standard output has shown <paramref name="count"/> lines containing <paramref name="text"/>.</summary>
    public void WaitForOutput(string text, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string output;
            lock (_stdout) output = _stdout.ToString();
            if (output.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal)) >= count) return;
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"distclip {_commandLine} did not print '{text}' {count} time(s).\nstdout:\n{output}\nstderr:\n{_stderr}");
            Thread.Sleep(100);
        }
    }

    /// <summary>Ends the process at once, as a crash or a lost machine would.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Sends a signal (TERM, INT, …) to the process, as a terminal's Ctrl-C or Kubernetes' pod stop does.</summary>
    public void Signal(string signal) => SystemCommand.Run("kill", $"-s {signal} {_process.Id}");

    public CliRun Finish(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"distclip {_commandLine} did not finish within {timeout}.\nstdout:\n{_stdout}\nstderr:\n{_stderr}");
        }
        _process.WaitForExit();  // drains the output readers
        return new CliRun(_process.ExitCode, _stdout.ToString(), _stderr.ToString());
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

public static class CliProcess
{
    /// <summary>The distclip.dll built next to the tests (the CLI project is a reference of this one).</summary>
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "distclip.dll");

    public static RunningCli Start(params string[] args) => StartIn(null, args);

    /// <summary>Starts distclip with extra environment variables.</summary>
    public static RunningCli StartWith(IReadOnlyDictionary<string, string> environment, params string[] args) => StartIn(null, args, environment);

    /// <summary>Starts distclip, inside network namespace <paramref name="netns"/> when given (needs root).</summary>
    public static RunningCli StartIn(string? netns, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        // SIGINT as a terminal delivers it: a runner that started the tests in the background may have them ignore it.
        var info = netns is null ? new ProcessStartInfo("env") : new ProcessStartInfo("ip");
        foreach (var a in netns is null ? ["--default-signal=INT", "dotnet"] : new[] { "netns", "exec", netns, "dotnet" }) info.ArgumentList.Add(a);
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        return new RunningCli(Process.Start(info)!, string.Join(' ', args));
    }

    public static CliRun Run(TimeSpan timeout, params string[] args)
    {
        using var run = Start(args);
        return run.Finish(timeout);
    }
}
