// What a distclip process's exit code says about its run: the codes a shell script or a Kubernetes Job's podFailurePolicy reads.
namespace DistClip.Hosting;

/// <summary>
/// The exit codes of every command, on every node (coordinator, workers, <c>train</c>). Each class asks for one
/// response: nothing (<see cref="Completed"/>), fix the input (<see cref="BadInput"/>), try again
/// (<see cref="RunTimeFailure"/>), resume (<see cref="StoppedResumable"/>), or see who sent the signal
/// (<see cref="Interrupted"/>, <see cref="Terminated"/>).
/// </summary>
public static class ExitCodes
{
    /// <summary>The run took its last step (or the command did what it was asked).</summary>
    public const int Completed = 0;

    /// <summary>
    /// The run failed at run time — a disk that filled up, a coordinator or peers that could not be reached, a
    /// coordinator that ended the run early: trying again may help (with checkpoints, <c>--resume auto</c> goes on).
    /// </summary>
    public const int RunTimeFailure = 1;

    /// <summary>Bad configuration or input (an option, a file, a port in use, a worker the cluster refuses): retrying cannot help.</summary>
    public const int BadInput = 2;

    /// <summary>
    /// Stopped by SIGINT or SIGTERM at a step boundary with a checkpoint of that step written: resume it
    /// (<c>--resume auto</c>). EX_TEMPFAIL of sysexits.h: "try again later".
    /// </summary>
    public const int StoppedResumable = 75;

    /// <summary>Stopped by SIGINT with no checkpoint to resume from (128 + 2, as a shell reports it); the weights are saved.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM with no checkpoint to resume from (128 + 15); the weights are saved.</summary>
    public const int Terminated = 143;

    /// <summary>Whether <paramref name="code"/> says a signal stopped the run.</summary>
    public static bool IsSignal(int code) => code is Interrupted or Terminated;
}
