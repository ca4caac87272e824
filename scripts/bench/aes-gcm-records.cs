// AES-GCM throughput of .NET's AesGcm by record size: why the bulk channel seals 256 KiB records instead of TLS's 16 KiB.
// Run: dotnet run scripts/bench/aes-gcm-records.cs   (one core; best of 8 passes over 13.1 MB, a cnn gradient)
using System.Diagnostics;
using System.Security.Cryptography;

var plain = RandomNumberGenerator.GetBytes(13_100_000);
var sealedBytes = new byte[plain.Length];
var opened = new byte[plain.Length];
foreach (int keyBytes in new[] { 16, 32 })
foreach (int record in new[] { 16 << 10, 256 << 10, 1 << 20 })
{
    using var cipher = new AesGcm(RandomNumberGenerator.GetBytes(keyBytes), 16);
    var tags = new byte[(plain.Length / record + 1) * 16];
    var nonce = new byte[12];
    double seal = double.MaxValue, open = double.MaxValue;
    for (int pass = 0; pass < 8; pass++)
    {
        var clock = Stopwatch.StartNew();
        for (int at = 0, i = 0; at < plain.Length; at += record, i++)
        {
            int n = Math.Min(record, plain.Length - at);
            BitConverter.TryWriteBytes(nonce, (long)i);
            cipher.Encrypt(nonce, plain.AsSpan(at, n), sealedBytes.AsSpan(at, n), tags.AsSpan(i * 16, 16));
        }
        seal = Math.Min(seal, clock.Elapsed.TotalSeconds);
        clock.Restart();
        for (int at = 0, i = 0; at < plain.Length; at += record, i++)
        {
            int n = Math.Min(record, plain.Length - at);
            BitConverter.TryWriteBytes(nonce, (long)i);
            cipher.Decrypt(nonce, sealedBytes.AsSpan(at, n), tags.AsSpan(i * 16, 16), opened.AsSpan(at, n));
        }
        open = Math.Min(open, clock.Elapsed.TotalSeconds);
    }
    Console.WriteLine($"AES-{keyBytes * 8}-GCM, records of {record >> 10,5} KiB: seal {plain.Length / seal / 1e9:F2} GB/s, open {plain.Length / open / 1e9:F2} GB/s");
}
