// Which OpenSSL seals and opens this process's TLS and bulk records: its version, more than anything in DistClip, sets TLS's cost.
using System.Security.Cryptography;

namespace DistClip.Exchange.Tls;

/// <summary>
/// The OpenSSL .NET loaded in this process. On one AMD EPYC core, AES-128-GCM ran 4.8 GB/s with OpenSSL 3.0 (Debian 12)
/// and 11.4 GB/s with 3.5 (Debian 13), so a node's OpenSSL decides much of what TLS costs it
/// (docs/BENCHMARKS.md); a node under <c>--tls</c> names it when it starts.
/// </summary>
public static class OpenSslVersion
{
    /// <summary>"OpenSSL 3.0.19", or null where .NET does not use OpenSSL (Windows, macOS).</summary>
    public static string? Loaded { get; } = Read();

    /// <summary><see cref="Loaded"/>, or what encrypts instead where it is null: for lines a person reads.</summary>
    public static string Description => Loaded ?? "the platform's cryptography";

    /// <summary>
    /// An <c>OPENSSL_VERSION_NUMBER</c> as text: 0xMNN00PP0 is M.NN.PP from OpenSSL 3 on; earlier numbers (0xMNNFFPPS)
    /// are given as M.NN.FF.
    /// </summary>
    public static string Format(long number)
    {
        long major = (number >> 28) & 0xF, minor = (number >> 20) & 0xFF;
        return major >= 3 ? $"OpenSSL {major}.{minor}.{(number >> 4) & 0xFF}" : $"OpenSSL {major}.{minor}.{(number >> 12) & 0xFF}";
    }

    private static string? Read()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsFreeBSD()) return null;
        try { return Format(SafeEvpPKeyHandle.OpenSslVersion); }
        catch (Exception e) when (e is PlatformNotSupportedException or TypeInitializationException or DllNotFoundException) { return null; }
    }
}
