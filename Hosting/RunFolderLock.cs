// One run per run folder: an OS lock on the folder for the whole run, which dies with the process that holds it.
using System.Globalization;

namespace DistClip.Hosting;

/// <summary>
/// An exclusive lock on a run's folder (<c>--run-dir</c>) or checkpoint folder, held from before the run reads its
/// checkpoints until it ends: a second coordinator or <c>train</c> on the same folder (a user who starts the job twice,
/// a rolling update on a shared volume) is refused at once, naming the holder, instead of interleaving checkpoints
/// with the first. The lock is the kernel's (<c>flock</c> on <c>.distclip.lock</c>, through .NET's
/// <see cref="FileShare.None"/>): it is released when the holder's process ends however it ends, so a lock left by a
/// killed run never blocks <c>--resume auto</c>. Who holds it (host, process, start time) is written beside it in
/// <c>.distclip.lock.holder</c>, which a refused run reads. On a network volume the lock is only as good as the
/// volume's: NFS v4 and CephFS carry it across clients; some other shares grant it on every client.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string LockFile = ".distclip.lock";
    public const string HolderFile = ".distclip.lock.holder";

    private readonly List<FileStream> _held = [];

    private RunFolderLock() { }

    /// <summary>Locks every distinct folder of <paramref name="folders"/> (creating it), or none.</summary>
    /// <param name="folders">The folders with the option that named each, for the refusal.</param>
    /// <exception cref="RunEndedEarlyException">A folder is held by another run (exit 1: it may be free later).</exception>
    public static RunFolderLock Acquire(IEnumerable<(string Option, string Folder)> folders)
    {
        var held = new RunFolderLock();
        try
        {
            foreach (var (option, folder) in folders.DistinctBy(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f.Folder))))
                held._held.Add(Take(option, folder));
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private static FileStream Take(string option, string folder)
    {
        Directory.CreateDirectory(folder);
        FileStream stream;
        try { stream = new FileStream(Path.Combine(folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (IsSharingViolation(e))   // any other failure (a read-only or full disk) is said as it is
        {
            throw new RunEndedEarlyException($"{option} {folder} is in use by another DistClip run ({HolderOf(folder)}); " +
                                             "one run per folder: wait for it to end, stop it, or give this run another folder.", ExitCodes.RunTimeFailure);
        }
        try
        {
            var holder = string.Create(CultureInfo.InvariantCulture,
                $"host {Environment.MachineName}, process {Environment.ProcessId}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC");
            File.WriteAllText(Path.Combine(folder, HolderFile), holder + "\n");
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether another run holds <paramref name="folder"/>'s lock now: a probe, nothing is kept or created.</summary>
    public static bool IsHeld(string folder)
    {
        var path = Path.Combine(folder, LockFile);
        if (!File.Exists(path)) return false;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException e) when (IsSharingViolation(e)) { return true; }
    }

    /// <summary>
    /// A lock held elsewhere: on Linux .NET reports flock's EWOULDBLOCK with the raw errno (11) as the HResult; elsewhere
    /// it is ERROR_SHARING_VIOLATION (32).
    /// </summary>
    private static bool IsSharingViolation(IOException e) => e.HResult == 11 || (e.HResult & 0xFFFF) == 32;

    private static string HolderOf(string folder)
    {
        try { return File.ReadAllText(Path.Combine(folder, HolderFile)).Trim(); }
        catch (IOException) { return "holder unknown"; }
    }

    public void Dispose()
    {
        foreach (var stream in _held) stream.Dispose();
        _held.Clear();
    }
}
