// Finds the checkpoint to resume from: the newest one that is whole and belongs to the run.
using System.Text.Json;
using DistClip.Protocol;

namespace DistClip.Hosting.Checkpoints;

/// <summary>
/// Checks checkpoints (manifest present, every file of the size and SHA-256 it lists, a readable state of this
/// protocol version) and picks the newest that passes and that the caller accepts, naming each one it refuses.
/// </summary>
public static class CheckpointCatalog
{
    /// <summary>The checkpoint at <paramref name="path"/> (a checkpoint folder, or a folder of them: the newest acceptable).</summary>
    /// <param name="accept">Returns why a whole checkpoint does not belong to this run (another model), or null.</param>
    /// <param name="refused">Told each checkpoint that is passed over, with the reason.</param>
    /// <returns>The folder and its state, or null when none is acceptable.</returns>
    public static (string Folder, CheckpointState State)? Newest(string path, Func<CheckpointState, string?> accept, Action<string> refused)
    {
        var candidates = File.Exists(Path.Combine(path, CheckpointStore.ManifestFile)) || File.Exists(Path.Combine(path, CheckpointState.FileName))
            ? [path] : CheckpointStore.List(path);
        foreach (var candidate in candidates)
        {
            var why = Verify(candidate, out var state) ?? accept(state!);
            if (why is null) return (candidate, state!);
            refused($"checkpoint {candidate} refused: {why}");
        }
        return null;
    }

    /// <summary>Why <paramref name="folder"/> is not a whole checkpoint of this protocol version; null when it is.</summary>
    public static string? Verify(string folder, out CheckpointState? state)
    {
        state = null;
        var manifestPath = Path.Combine(folder, CheckpointStore.ManifestFile);
        if (!File.Exists(manifestPath)) return "it has no manifest (it was not completely written)";
        CheckpointStore.Manifest manifest;
        try { manifest = CheckpointStore.Manifest.Read(manifestPath); }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or UnauthorizedAccessException) { return $"its manifest is not readable ({e.Message})"; }
        if (manifest.Files is null) return "its manifest lists no files";
        foreach (var (name, entry) in manifest.Files)
        {
            if (entry is null || name.Contains('/') || name.Contains('\\') || name is "." or "..") return $"its manifest names a file it may not ('{name}')";
            var file = Path.Combine(folder, name);
            if (!File.Exists(file)) return $"{name} is missing";
            long bytes = new FileInfo(file).Length;
            if (bytes != entry.Bytes) return $"{name} has {bytes} bytes, the manifest says {entry.Bytes} (truncated)";
            try { if (CheckpointStore.Sha256Of(file) != entry.Sha256) return $"{name} does not match its checksum (corrupt)"; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"{name} is not readable ({e.Message})"; }
        }
        if (!manifest.Files.ContainsKey(CheckpointState.FileName)) return $"it has no {CheckpointState.FileName}";
        try { state = CheckpointState.Read(Path.Combine(folder, CheckpointState.FileName)); }
        catch (InvalidDataException e) { return e.Message; }
        if (state.Protocol != ProtocolVersion.Current)
            return $"it was written by DistClip protocol v{state.Protocol}, this build speaks v{ProtocolVersion.Current}";
        return null;
    }
}
