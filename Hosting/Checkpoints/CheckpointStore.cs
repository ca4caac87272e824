// Writes checkpoints so that a crash at any instant leaves the previous ones intact, and keeps the newest few.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace DistClip.Hosting.Checkpoints;

/// <summary>
/// A folder of checkpoints, one sub-folder each (<c>step-00000600</c>). A checkpoint is written into a temporary
/// folder, every file flushed to the disk, then its manifest (each file's size and SHA-256) written last and
/// flushed, and the folder renamed into place; a checkpoint without a manifest whose checksums hold does not exist
/// (<see cref="CheckpointCatalog"/>). After a write only the newest <c>keep</c> remain.
/// </summary>
public sealed class CheckpointStore(string folder, int keep)
{
    public const string ManifestFile = "manifest.json";
    private const string Prefix = "step-";

    public string Folder => folder;

    /// <summary>The folder name of the checkpoint after <paramref name="step"/> steps.</summary>
    public static string NameOf(long step) => $"{Prefix}{step:D8}";

    /// <summary>The checkpoint folders under <paramref name="folder"/>, newest first (by step).</summary>
    public static IReadOnlyList<string> List(string folder) =>
        !Directory.Exists(folder) ? [] : Directory.GetDirectories(folder, Prefix + "*")
            .Where(d => long.TryParse(Path.GetFileName(d)[Prefix.Length..], out _))
            .OrderByDescending(d => long.Parse(Path.GetFileName(d)[Prefix.Length..])).ToList();

    /// <summary>Writes the checkpoint after <paramref name="step"/> steps: <paramref name="fill"/> writes its files into the folder it is given.</summary>
    /// <returns>The checkpoint's folder.</returns>
    public string Write(long step, Action<string> fill)
    {
        Directory.CreateDirectory(folder);
        RemoveStalePartials();
        var final = Path.Combine(folder, NameOf(step));
        var temporary = Path.Combine(folder, $".{NameOf(step)}.{Environment.ProcessId}.partial");
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);
        try
        {
            fill(temporary);
            var files = new SortedDictionary<string, FileEntry>(StringComparer.Ordinal);
            foreach (var file in Directory.GetFiles(temporary).Order(StringComparer.Ordinal))
            {
                FlushToDisk(file);
                files[Path.GetFileName(file)] = new FileEntry(new FileInfo(file).Length, Sha256Of(file));
            }
            var manifest = Path.Combine(temporary, ManifestFile);
            File.WriteAllText(manifest, JsonSerializer.Serialize(new Manifest(1, files)));
            FlushToDisk(manifest);
            FlushDirectory(temporary);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);  // the same step again (a resumed run stopped before its next)
            Directory.Move(temporary, final);
            FlushDirectory(folder);
        }
        catch
        {
            try { Directory.Delete(temporary, recursive: true); } catch (IOException) { }  // a full disk: leave nothing half-written
            throw;
        }
        foreach (var old in List(folder).Skip(keep)) Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Deletes the temporary folders of writers that died mid-write (named .step-N.PID.partial).</summary>
    private void RemoveStalePartials()
    {
        foreach (var partial in Directory.GetDirectories(folder, $".{Prefix}*.partial"))
        {
            var parts = Path.GetFileName(partial).Split('.');
            if (parts.Length == 4 && int.TryParse(parts[2], out int pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                try { Directory.Delete(partial, recursive: true); } catch (IOException) { }
        }
    }

    internal sealed record FileEntry(long Bytes, string Sha256);

    internal sealed record Manifest(int Format, SortedDictionary<string, FileEntry> Files)
    {
        public static Manifest Read(string path) => JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path)) ?? throw new InvalidDataException("empty manifest");
    }

    internal static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static void FlushToDisk(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>fsync of a folder, so that a rename in it survives a power cut (Linux; elsewhere nothing).</summary>
    private static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int ReadOnlyDirectory = 0x10000;  // O_RDONLY | O_DIRECTORY
        int fd = open(directory, ReadOnlyDirectory);
        if (fd < 0) return;
        fsync(fd);
        close(fd);
    }

    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc")] private static extern int fsync(int fd);
    [DllImport("libc")] private static extern int close(int fd);
}
