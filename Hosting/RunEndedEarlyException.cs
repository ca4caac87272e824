// A run that ended before its last step, told as one line with the exit code that classifies it.
namespace DistClip.Hosting;

/// <summary>
/// The run ended early; <see cref="Exception.Message"/> is the one line a user reads (why, at which step,
/// where the weights went) and <see cref="ExitCode"/> classifies it: 2 for what the user's input caused,
/// 130/143 for an interruption, 1 for the environment (a full disk, a coordinator cut off).
/// </summary>
public sealed class RunEndedEarlyException(string message, int exitCode, Exception? cause = null) : Exception(message, cause)
{
    public int ExitCode { get; } = exitCode;
}
