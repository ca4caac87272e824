// Runs the real distclip executable as a child process, as a user would.
using System.Diagnostics;

namespace DistClip.Tests.Cli;

public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

public static class CliProcess
{
    /// <summary>The distclip.dll built next to the tests (the CLI project is a reference of this one).</summary>
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "distclip.dll");

    public static CliRun Run(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"distclip {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}
