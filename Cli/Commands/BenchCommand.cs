// `distclip bench`: placeholder wired below once the benchmark exists.
using System.CommandLine;

namespace DistClip.Cli.Commands;

public static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmark (not yet available).");
}
