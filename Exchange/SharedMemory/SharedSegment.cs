// A float32 vector in a memory-mapped file under /dev/shm that two processes of one host both map.
using System.Buffers;
using System.IO.MemoryMappedFiles;
using DistClip.Protocol;

namespace DistClip.Exchange.SharedMemory;

/// <summary>
/// One exchange vector shared by two processes on the same host: the writer fills <see cref="Values"/>
/// and <see cref="Publish"/>es it under a tag (a parameter version, a step); the reader checks the
/// tag before (and, when copying out, after) it reads. While a write is under way the tag is -1, so
/// a reader never mistakes a half-written vector for a published one (a sequence lock).
/// The file starts with a header naming the run's token and the length, so that a process can only
/// open a segment of its own run and model: opening it at all is how a worker learns that the
/// coordinator is on its host.
/// </summary>
public sealed unsafe class SharedSegment : IDisposable
{
    /// <summary>Where segments live; a RAM file system on Linux.</summary>
    public const string DefaultDirectory = "/dev/shm";

    private const uint Magic = 0x4D534344;  // "DCSM"
    private const int HeaderBytes = 64;      // magic 4, protocol 4, token 8, length 8, tag 8, reserved

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly NativeFloats _memory;
    private bool _disposed;

    /// <summary>The file's path; peers open it by this name.</summary>
    public string Path { get; }

    /// <summary>Number of float32 values.</summary>
    public int Length { get; }

    private SharedSegment(string path, FileStream stream, int length, bool create, long token)
    {
        (Path, Length) = (path, length);
        long bytes = HeaderBytes + (long)length * sizeof(float);
        if (!create && stream.Length is var actual && actual != bytes)
        {
            stream.Dispose();
            throw new InvalidDataException($"Shared segment {path} has {actual} bytes; a vector of {length} floats takes {bytes}.");
        }
        _file = MemoryMappedFile.CreateFromFile(stream, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, bytes);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
        _memory = new NativeFloats((float*)(_base + HeaderBytes), length);
        if (create)
        {
            *(uint*)_base = Magic;
            *(int*)(_base + 4) = ProtocolVersion.Current;
            *(long*)(_base + 8) = token;
            *(long*)(_base + 16) = length;
            Volatile.Write(ref Tag, -1);
        }
        else if (*(uint*)_base != Magic || *(int*)(_base + 4) != ProtocolVersion.Current || *(long*)(_base + 8) != token || *(long*)(_base + 16) != length)
        {
            Dispose();
            throw new InvalidDataException($"Shared segment {path} belongs to another run, model or DistClip version.");
        }
    }

    private ref long Tag => ref *(long*)(_base + 24);

    /// <summary>
    /// Creates <paramref name="directory"/>/distclip-&lt;pid&gt;-&lt;name&gt; for <paramref name="length"/> floats,
    /// first deleting segments left by DistClip processes that are gone.
    /// </summary>
    public static SharedSegment Create(string directory, string name, long token, int length)
    {
        RemoveStale(directory);
        var path = System.IO.Path.Combine(directory, $"distclip-{Environment.ProcessId}-{name}");
        long bytes = HeaderBytes + (long)length * sizeof(float);
        if (File.Exists(path)) throw new IOException($"Shared segment {path} exists already.");  // never ours to delete below
        FileStream stream;
        try
        {
            // Allocated now, not on first touch: a full /dev/shm (Docker's default is 64 MB) must fail here with
            // an exception, not later with SIGBUS when a write reaches a page the file system cannot supply.
            stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite, PreallocationSize = bytes,
            });
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            File.Delete(path);
            throw new IOException($"No room for a {bytes / 1e6:F1} MB shared segment in {directory}: {e.Message}", e);
        }
        stream.SetLength(bytes);
        return new SharedSegment(path, stream, length, create: true, token);
    }

    /// <summary>Maps a peer's segment; throws if it is absent (another host) or not of this run and model.</summary>
    public static SharedSegment Open(string path, long token, int length) =>
        new(path, new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite), length, create: false, token);

    /// <summary>
    /// <see cref="Open"/>, or null with the reason in <paramref name="why"/>: absent here (its creator is on
    /// another host), unreadable, or of another run, model or version.
    /// </summary>
    public static SharedSegment? TryOpen(string path, long token, int length, out string? why)
    {
        why = null;
        try { return Open(path, token, length); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            why = e is FileNotFoundException or DirectoryNotFoundException ? $"{path} does not exist here: its creator is on another host" : e.Message;
            return null;
        }
    }

    /// <summary>The vector, to write before <see cref="Publish"/> or to read after checking <see cref="Holds"/>.</summary>
    public Span<float> Values => _memory.GetSpan();

    /// <summary>The vector as memory (for a reader that keeps it, such as the coordinator's reducer).</summary>
    public ReadOnlyMemory<float> Memory => _memory.Memory;

    /// <summary>Marks the vector as being written: readers see no published tag until <see cref="Publish"/>.</summary>
    public void BeginWrite()
    {
        Volatile.Write(ref Tag, -1);
        Interlocked.MemoryBarrier();
    }

    /// <summary>Publishes the vector just written under <paramref name="tag"/> (≥ 0).</summary>
    public void Publish(long tag)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tag);
        Interlocked.MemoryBarrier();
        Volatile.Write(ref Tag, tag);
    }

    /// <summary>Whether the vector is published under <paramref name="tag"/> now.</summary>
    public bool Holds(long tag) => Volatile.Read(ref Tag) == tag;

    /// <summary>
    /// Runs <paramref name="read"/> on the vector if it is published under <paramref name="tag"/> before and
    /// after; false if it was not, or was rewritten meanwhile (whatever <paramref name="read"/> copied is then torn).
    /// </summary>
    public bool TryRead(long tag, ReadOnlySpanAction<float, object?> read, object? state = null)
    {
        if (!Holds(tag)) return false;
        read(Values, state);
        Interlocked.MemoryBarrier();
        return Holds(tag);
    }

    /// <summary>Removes the file name; both processes keep their mappings until they dispose them.</summary>
    public void Unlink()
    {
        try { File.Delete(Path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Deletes segments whose creating process no longer runs (a crash leaves them behind).</summary>
    public static void RemoveStale(string directory)
    {
        if (!Directory.Exists(directory) || !Directory.Exists("/proc")) return;
        foreach (var file in Directory.EnumerateFiles(directory, "distclip-*"))
        {
            var parts = System.IO.Path.GetFileName(file).Split('-');
            if (parts.Length > 2 && int.TryParse(parts[1], out int pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try { File.Delete(file); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>The mapped floats as <see cref="Memory{T}"/>; valid while the segment is not disposed.</summary>
    private sealed class NativeFloats(float* pointer, int length) : MemoryManager<float>
    {
        public override Span<float> GetSpan() => new(pointer, length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}
