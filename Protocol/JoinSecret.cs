// The cluster's join secret: read from a file, proved by an HMAC of a fresh nonce, never sent.
using System.Security.Cryptography;
using System.Text;

namespace DistClip.Protocol;

/// <summary>
/// A secret every node of one cluster shares (<c>--secret-file</c>). A worker proves it knows the secret by the
/// HMAC-SHA256, keyed with it, of the coordinator's nonce, its name and its own actor address; the coordinator checks
/// the proof in constant time against the address the proof came from. A nonce is used once, so a recorded proof is
/// worth nothing later, and a proof obtained from a real worker (by challenging it) is worth nothing to anyone else.
/// </summary>
public sealed class JoinSecret
{
    /// <summary>Shortest secret accepted, in bytes: an HMAC key shorter than this is guessable.</summary>
    public const int MinimumBytes = 16;

    private readonly byte[] _key;

    public JoinSecret(byte[] key)
    {
        if (key.Length < MinimumBytes) throw new ArgumentException($"a join secret must have at least {MinimumBytes} bytes (got {key.Length}).");
        _key = key;
    }

    /// <summary>The secret in <paramref name="path"/> (its bytes, a trailing newline removed), naming <paramref name="option"/> in errors.</summary>
    /// <exception cref="ArgumentException">The file is missing, unreadable or too short.</exception>
    public static JoinSecret Read(string path, string option)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ArgumentException($"{option}: cannot read {path} ({e.Message})."); }
        int length = bytes.Length;
        while (length > 0 && bytes[length - 1] is (byte)'\n' or (byte)'\r') length--;
        try { return new JoinSecret(bytes[..length]); }
        catch (ArgumentException e) { throw new ArgumentException($"{option} {path}: {e.Message}"); }
    }

    /// <summary>The name a coordinator proves the secret under (its offers answer the worker's nonce).</summary>
    public const string CoordinatorName = "coordinator";

    /// <summary>A fresh random nonce for one challenge.</summary>
    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(32);

    /// <summary>HMAC-SHA256 of the nonce, the worker's name and its actor address, keyed with the secret.</summary>
    public byte[] Proof(byte[] nonce, string workerName, string workerAddress) =>
        HMACSHA256.HashData(_key, nonce.Concat(Encoding.UTF8.GetBytes($"{workerName}\n{workerAddress}")).ToArray());

    /// <summary>Whether <paramref name="mac"/> proves the secret for this nonce, name and address (constant time).</summary>
    public bool Verifies(byte[] nonce, string workerName, string workerAddress, byte[] mac) =>
        CryptographicOperations.FixedTimeEquals(Proof(nonce, workerName, workerAddress), mac);
}
