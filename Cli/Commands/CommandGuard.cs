// A command's body runs guarded: what a user or the environment causes ends as one line and an exit code, never a stack trace.
using DistClip.Hosting;

namespace DistClip.Cli.Commands;

/// <summary>The one place that turns a command's failures into a line on stderr and an exit code.</summary>
public static class CommandGuard
{
    /// <summary>
    /// Runs a command body. Errors a user can cause (bad arguments, missing or corrupt files or outputs) become
    /// one line on stderr and exit code 2; a run that ended early (<see cref="RunEndedEarlyException"/>) its
    /// line and exit code (130/143 interrupted, 1 the environment, 2 the user's policy).
    /// </summary>
    public static int Run(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (Unwrapped(e) is RunEndedEarlyException early)
        {
            Console.Error.WriteLine($"distclip: {early.Message}");
            return early.ExitCode;
        }
        catch (Exception e) when (Unwrapped(e) is TrainingEndedException ended)  // a trainer run outside a RunOutputs (bench)
        {
            Console.Error.WriteLine($"distclip: {ended.Message}");
            return ended.InnerException is Coordinator.NonFiniteGradientException ? 2 : 1;
        }
        catch (Exception e) when (UserError(e) is { } message)
        {
            Console.Error.WriteLine($"distclip: {message}");
            return 2;
        }
    }

    private static Exception Unwrapped(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrapped(a.InnerException!) : e;

    private static string? UserError(Exception e) => e switch
    {
        RunEndedEarlyException => null,
        AggregateException { InnerExceptions.Count: 1 } a => UserError(a.InnerException!),
        ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException
            or DistClip.Coordinator.NonFiniteGradientException => e.Message,
        _ => null,
    };
}
