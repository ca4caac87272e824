// A replica's state files as one byte string, to send a worker the whole state (the sharded exchange).
using System.Buffers.Binary;
using System.Text;

namespace DistClip.Training.State;

/// <summary>
/// The files <see cref="ModelReplica.WriteState"/> writes, packed into one byte string and back: for each file its name's
/// length and UTF-8 bytes, its length and contents (little-endian 32-bit lengths). The state itself stays in the
/// checkpoint's format, so a worker's replica is loaded by the same code that resumes a run.
/// </summary>
public static class StateBundle
{
    /// <summary>A replica's state: <see cref="ModelReplica.WriteState"/> through a scratch folder, packed.</summary>
    public static byte[] Of(ModelReplica replica)
    {
        var folder = Directory.CreateTempSubdirectory("distclip-state-");
        try
        {
            replica.WriteState(folder.FullName);
            return Pack(folder.FullName);
        }
        finally { folder.Delete(recursive: true); }
    }

    /// <summary>Loads a bundle of <see cref="Of"/> into <paramref name="replica"/> (a fresh one: <see cref="ModelReplica.ReadState"/> replays the schedule from the start).</summary>
    public static void Load(byte[] bundle, ModelReplica replica, long steps, long version)
    {
        var folder = Directory.CreateTempSubdirectory("distclip-state-");
        try
        {
            Unpack(bundle, folder.FullName);
            replica.ReadState(folder.FullName, steps, version);
        }
        finally { folder.Delete(recursive: true); }
    }

    /// <summary>Every file of <paramref name="folder"/> (not its sub-folders), in name order.</summary>
    public static byte[] Pack(string folder)
    {
        using var bytes = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            var name = Encoding.UTF8.GetBytes(Path.GetFileName(file));
            var contents = File.ReadAllBytes(file);
            BinaryPrimitives.WriteInt32LittleEndian(length, name.Length);
            bytes.Write(length);
            bytes.Write(name);
            BinaryPrimitives.WriteInt32LittleEndian(length, contents.Length);
            bytes.Write(length);
            bytes.Write(contents);
        }
        return bytes.ToArray();
    }

    /// <summary>Writes the files of a <see cref="Pack"/> into <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">The bundle is malformed: a length past its end, or a name that is not a plain file name.</exception>
    public static void Unpack(ReadOnlySpan<byte> bundle, string folder)
    {
        int at = 0;
        while (at < bundle.Length)
        {
            var name = Encoding.UTF8.GetString(Next(bundle, ref at));
            if (name.Length == 0 || Path.GetFileName(name) != name || name is "." or "..")
                throw new InvalidDataException($"A state bundle names a file '{name}' that is not a plain file name.");
            File.WriteAllBytes(Path.Combine(folder, name), Next(bundle, ref at).ToArray());
        }
    }

    private static ReadOnlySpan<byte> Next(ReadOnlySpan<byte> bundle, ref int at)
    {
        if (bundle.Length - at < 4) throw new InvalidDataException("A state bundle ends inside a length.");
        int length = BinaryPrimitives.ReadInt32LittleEndian(bundle[at..]);
        at += 4;
        if (length < 0 || length > bundle.Length - at) throw new InvalidDataException($"A state bundle's length {length} reaches past its end.");
        var piece = bundle.Slice(at, length);
        at += length;
        return piece;
    }
}
