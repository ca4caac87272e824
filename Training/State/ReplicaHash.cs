// The sharded exchange's check that every replica holds the same state: a hash of its values, compared every K steps.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using DistClip.Core;

namespace DistClip.Training.State;

/// <summary>
/// SHA-256 of a replica's version and its exchange vector's values (parameters, then float buffers such as batch-norm
/// statistics), bit for bit: two replicas hash alike exactly when they hold the same bits at the same version (a NaN's
/// payload and the sign of a zero count). The optimizer state is not hashed: a replica whose moments diverged differs in
/// its weights one step later, which the next comparison sees.
/// </summary>
public readonly record struct ReplicaHash(string Hex)
{
    public static ReplicaHash Of(FlatParameters flat, long version) => Of(flat.ReadValues(), version);

    public static ReplicaHash Of(ReadOnlySpan<float> values, long version)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("replica hashes are defined over little-endian floats");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> versionBytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(versionBytes, version);
        sha.AppendData(versionBytes);
        sha.AppendData(MemoryMarshal.AsBytes(values));
        return new ReplicaHash(Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    public override string ToString() => Hex[..16];
}
