// The sharded exchange's check that every replica holds the same state: a hash of its values, to be compared every K steps.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace DistClip.Training.State;

/// <summary>
/// SHA-256 of a replica's version, its exchange vector's values (parameters, then float buffers such as batch-norm
/// statistics) and its moving average of the weights when it keeps one, bit for bit: two replicas hash alike exactly
/// when they hold the same bits at the same version (a NaN's payload and the sign of a zero count). The average is
/// hashed because nothing feeds it back into the weights: a replica whose average diverged would never show otherwise.
/// The optimizer state is not hashed: a replica whose moments diverged differs in its weights one step later, which the
/// next comparison sees.
/// </summary>
public readonly record struct ReplicaHash(string Hex)
{
    public static ReplicaHash Of(ModelReplica replica) => Of(replica.Flat.ReadValues(), replica.Version, replica.AverageValues());

    public static ReplicaHash Of(ReadOnlySpan<float> values, long version, ReadOnlySpan<float> average = default)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("replica hashes are defined over little-endian floats");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[2 * sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(header, version);
        BinaryPrimitives.WriteInt64LittleEndian(header[sizeof(long)..], average.Length);   // no average and an empty one differ from one that holds values
        sha.AppendData(header);
        sha.AppendData(MemoryMarshal.AsBytes(values));
        sha.AppendData(MemoryMarshal.AsBytes(average));
        return new ReplicaHash(Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    public override string ToString() => Hex is null ? "(none)" : Hex[..Math.Min(16, Hex.Length)];
}
