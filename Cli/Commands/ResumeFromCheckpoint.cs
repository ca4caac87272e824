// `--resume`: the run's configuration comes from the checkpoint it resumes.
using System.CommandLine;
using DistClip.Hosting.Checkpoints;

namespace DistClip.Cli.Commands;

/// <summary>
/// Expands <c>--resume PATH|auto</c> into command-line tokens: the newest whole checkpoint there whose model the
/// command line does not contradict is chosen (each one passed over is named), <c>--resume</c> is pointed at it, and
/// its trajectory-defining settings (<see cref="RunTrajectory"/>) are put in front of the options the command line
/// does not give. An option the command line does give and that contradicts the checkpoint is an error later
/// (<see cref="RunTrajectory.Contradiction"/>). Without a checkpoint, <c>auto</c> leaves the command line as it is.
/// </summary>
public static class ResumeFromCheckpoint
{
    public const string OptionName = "--resume";

    // Options that set the same thing as a trajectory key: given one, the key counts as given.
    private static readonly Dictionary<string, string[]> SameSetting = new()
    {
        ["clip"] = ["--clip", "--clip-norm", "--clip-norm-type", "--clip-value"],
        ["no-shuffle"] = ["--no-shuffle", "--shuffle"],
    };

    private static readonly string[] ModelKeys = ["model", "hidden", "dataset"];

    public static string[] Expand(Command command, string[] args, TextWriter output)
    {
        int at = Array.IndexOf(args, OptionName);
        // A sweep's runs each resume from their own folder (--resume auto): there is no one configuration to take.
        if (at < 0 || at + 1 >= args.Length || command.Name is not ("train" or "coordinator")) return args;
        string resume = args[at + 1];
        var given = args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
        string? folder = resume == "auto" ? CheckpointFolder(args) : resume;
        if (folder is null) return args;  // the settings' own check names what is missing
        // A folder another run holds is refused by this run's own lock (TrainingPipeline), whatever that run's checkpoint
        // retention does meanwhile: a checkpoint chosen here could be gone before the lock says why.
        if (Directory.Exists(folder) && Hosting.RunFolderLock.IsHeld(folder)) return args;
        var found = CheckpointCatalog.Newest(folder, state => ForeignModel(state, args), output.WriteLine);
        if (found is not var (chosen, state)) return args;
        var tokens = new List<string>();
        foreach (var (key, value) in state.Trajectory)
        {
            if ((SameSetting.TryGetValue(key, out var names) ? names : ["--" + key]).Any(given.Contains)) continue;
            var option = command.Options.FirstOrDefault(o => o.Name == "--" + key);
            if (option is null) continue;
            if (option.ValueType == typeof(bool)) { if (value == "true") tokens.Add(option.Name); }
            else tokens.AddRange([option.Name, value]);
        }
        var rest = args.ToArray();
        rest[at + 1] = chosen;
        return rest.Length > 0 && rest[0] == command.Name ? [rest[0], .. tokens, .. rest[1..]] : [.. tokens, .. rest];
    }

    /// <summary>Where --resume auto looks: --checkpoint-dir, else checkpoints/ in --run-dir.</summary>
    private static string? CheckpointFolder(string[] args) =>
        Hosting.TrainingSettings.CheckpointFolderOf(ValueOf(args, "--checkpoint-dir"), ValueOf(args, "--run-dir"));

    private static string? ValueOf(string[] args, string option)
    {
        int i = Array.LastIndexOf(args, option);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>Why a checkpoint holds another model than the command line asks for; null when it may be this run's.</summary>
    private static string? ForeignModel(CheckpointState state, string[] args)
    {
        foreach (var key in ModelKeys)
            if (ValueOf(args, "--" + key) is { } asked && state.Trajectory.TryGetValue(key, out var recorded) && asked != recorded)
                return $"it holds another model (--{key} {recorded}; this command line asks for {asked})";
        return null;
    }
}
