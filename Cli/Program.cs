// distclip: the one entry point. Parses the command line and hands over to a command; nothing else.
using System.CommandLine;
using DistClip.Cli.Commands;

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
            CertsCommand.Create(),
            HealthCommand.Create(),
        };
        ParseResult parse;
        try
        {
            var command = root.Subcommands.FirstOrDefault(c => args.Length > 0 && c.Name == args[0]);
            parse = root.Parse(command is null ? args : ResumeFromCheckpoint.Expand(command, ConfigFile.Expand(command, args), Console.Out));
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
}
