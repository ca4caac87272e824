// The one way a training run goes, for every front end: check, build once, start, train, finish.
using DistClip.Models.Data;

namespace DistClip.Hosting;

/// <summary>
/// A run from its settings to its end: its outputs are checked before anything else, the coordinator's
/// setup (model, master weights, batch order) is built once, the run's outputs start (banner, run folder,
/// observers), the job trains on the <see cref="TrainingTarget"/>, and the run finishes (weights,
/// evaluation, summary) — or ends early with its weights saved (<see cref="RunEndedEarlyException"/>). The run's folders
/// are locked for the whole run (<see cref="RunFolderLock"/>).
/// </summary>
public static class TrainingPipeline
{
    /// <param name="command">The command's name, for the banner.</param>
    /// <param name="resolvedYaml">The run's configuration as a config file would give it (written to the run folder).</param>
    /// <param name="train">The training split (<see cref="RunInputs.LoadTrainSplit"/>).</param>
    /// <exception cref="RunEndedEarlyException">The run ended before its last step.</exception>
    public static async Task<(RunReport Summary, TrainingResult Result)> RunAsync(string command, TrainingSettings settings, string resolvedYaml,
        IImageDataset train, TrainingTarget target, TextWriter output, StopRequest stop)
    {
        OutputPaths.Check(settings);
        using var folders = RunFolderLock.Acquire(LockedFolders(settings));   // before the checkpoints are read: one run per folder
        var setup = CoordinatorSetup.Create(settings, train, target.Workers, output.WriteLine, checkData: !target.SharesData);
        using var run = RunOutputs.Start(command, settings, resolvedYaml, train, setup, target.Workers, output, stop);
        return await run.CompleteAsync(target.TrainAsync(setup, run, train)).ConfigureAwait(false);
    }

    private static IEnumerable<(string Option, string Folder)> LockedFolders(TrainingSettings settings)
    {
        if (settings.RunDir is { } run) yield return ("--run-dir", run);
        // The checkpoint folder itself, wherever it is (--checkpoint-dir, or checkpoints/ in the run folder): another run's
        // --checkpoint-dir may name this run's.
        if (settings.CheckpointFolder is { } checkpoints) yield return (settings.CheckpointDir is null ? "--run-dir" : "--checkpoint-dir", checkpoints);
    }
}
