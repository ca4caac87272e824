// distclip: the one entry point. Parses the command line and hands over to a command; nothing else.
using System.CommandLine;
using DistClip.Cli.Commands;
using DistClip.Cli.Hosting;

namespace DistClip.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("DistClip: data-parallel TorchSharp training on Akka.NET with true-global-norm gradient clipping.")
        {
            TrainCommand.Create(),
            CoordinatorCommand.Create(),
            WorkerCommand.Create(),
            EvalCommand.Create(),
            BenchCommand.Create(),
            BenchNetworkCommand.Create(),
            ReportCommand.Create(),
            SweepCommand.Create(),
        };
        ParseResult parse;
        try
        {
            var command = root.Subcommands.FirstOrDefault(c => args.Length > 0 && c.Name == args[0]);
            parse = root.Parse(command is null ? args : ConfigFile.Expand(command, args));
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"distclip: {e.Message}");
            return 2;
        }
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"distclip: {ParseErrorText.Describe(parse.Errors[0].Message)}");
            return 2;
        }
        return parse.Invoke();
    }

    /// <summary>
    /// Runs a command body; errors a user can cause (bad arguments, missing or corrupt files, a
    /// non-finite gradient under --nonfinite error) become one line on stderr and exit code 2.
    /// </summary>
    public static int Guarded(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (Unwrapped(e) is RunEndedEarlyException early)
        {
            Console.Error.WriteLine($"distclip: {early.Message}");
            return early.ExitCode;
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
