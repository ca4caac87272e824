// Running a system tool (ip, mount) that a test needs, failing loudly when it fails.
using System.Diagnostics;

namespace DistClip.Tests;

public static class SystemCommand
{
    /// <summary>Runs <paramref name="command"/> with <paramref name="arguments"/>; throws with its stderr on a non-zero exit.</summary>
    public static void Run(string command, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, UseShellExecute = false })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{command} {arguments} failed: {error}");
    }
}
