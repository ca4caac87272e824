// Every file a run will write is checked before the first step, so that no training is lost to a path that could not take it.
namespace DistClip.Hosting;

/// <summary>
/// Checks output paths up front: a file's folder is created when missing and must accept a new file (a
/// probe file is written and deleted, which also catches read-only mounts that permission bits do not
/// show, even to root); a file path must not be a folder. Errors are <see cref="ArgumentException"/>s that
/// name the option, so the CLI reports them as one line with exit code 2.
/// </summary>
public static class OutputPaths
{
    /// <summary>Checks every output of a run: <c>--run-dir</c>, <c>--checkpoint-dir</c>, <c>--save</c>, <c>--metrics</c>.</summary>
    public static void Check(TrainingSettings settings)
    {
        CheckFolder("--run-dir", settings.RunDir);
        CheckFolder(settings.CheckpointDir is null ? "--run-dir" : "--checkpoint-dir", settings.CheckpointFolder);
        CheckFile("--save", settings.SaveTo);
        CheckFile("--metrics", settings.MetricsPath);
    }

    /// <summary>Checks that <paramref name="path"/>, given by <paramref name="option"/>, can be written as a file.</summary>
    public static void CheckFile(string option, string? path)
    {
        if (path is null) return;
        if (Directory.Exists(path)) throw new ArgumentException($"{option} {path} is a folder; give a file name inside it.");
        CheckFolder(option, Path.GetDirectoryName(Path.GetFullPath(path))!, path);
    }

    /// <summary>Checks that files can be created in folder <paramref name="directory"/> (created when missing).</summary>
    public static void CheckFolder(string option, string? directory) => CheckFolder(option, directory, directory);

    private static void CheckFolder(string option, string? directory, string? given)
    {
        if (directory is null) return;
        if (File.Exists(directory)) throw new ArgumentException($"{option} {given}: {directory} is a file, not a folder.");
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".distclip-write-check-{Environment.ProcessId}");
            using (new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option} {given}: cannot write in {directory} ({e.Message.TrimEnd('.')}).");
        }
    }
}
