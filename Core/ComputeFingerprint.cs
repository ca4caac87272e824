// What decides a node's float32 arithmetic: two nodes with the same fingerprint compute a shard to the same bits.
using MessagePack;
using static TorchSharp.torch;

namespace DistClip.Core;

/// <summary>
/// The facts a process can read that decide how its kernels round: the device kind, intra-op threads (libtorch's CPU
/// kernels split their sums by thread count), the TorchSharp (and so libtorch) build, the widest vector instructions
/// the CPU offers (libtorch, MKL and oneDNN pick their kernels by it), the environment variables that override that
/// choice (they reach native code only when set before the process starts: .NET's SetEnvironmentVariable does not
/// change the C environment on Linux), the CPU's vendor (MKL picks kernels by vendor too), and for CUDA the devices.
/// TorchSharp 0.107 does not expose libtorch's own dispatch level, so the CPU's flags stand in for it; nor a CUDA
/// device's name or compute capability, so for CUDA workers only the device kind is compared (not verified: no GPU here).
/// </summary>
/// <param name="Device">cpu or cuda.</param>
/// <param name="Threads">Intra-op threads.</param>
/// <param name="Torch">The TorchSharp build.</param>
/// <param name="CpuVector">The widest vector extension of the CPU: avx512, avx2, avx or sse.</param>
/// <param name="NumericsEnvironment">The set overrides among <see cref="OverrideVariables"/>, as NAME=value; empty when none.</param>
/// <param name="Accelerator">For CUDA, what this build can say of the device (today nothing: null); null on the CPU.</param>
/// <param name="CpuVendor">The CPU's vendor (GenuineIntel, AuthenticAMD, …).</param>
[MessagePackObject]
public sealed record ComputeFingerprint(
    [property: Key(0)] string Device,
    [property: Key(1)] int Threads,
    [property: Key(2)] string Torch,
    [property: Key(3)] string CpuVector,
    [property: Key(4)] string NumericsEnvironment,
    [property: Key(5)] string? Accelerator,
    [property: Key(6)] string CpuVendor = "unknown")
{
    /// <summary>Environment variables that change which kernels libtorch, MKL and oneDNN run.</summary>
    public static readonly string[] OverrideVariables = ["ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"];

    /// <summary>This process's fingerprint for work on <paramref name="device"/> (cpu, cuda or cuda:i) with <paramref name="threads"/> intra-op threads.</summary>
    public static ComputeFingerprint Of(string device, int threads)
    {
        bool cuda = device.StartsWith("cuda", StringComparison.Ordinal);
        var overrides = OverrideVariables.Select(name => (name, value: Environment.GetEnvironmentVariable(name)))
            .Where(v => !string.IsNullOrEmpty(v.value)).Select(v => $"{v.name}={v.value}");
        return new ComputeFingerprint(cuda ? "cuda" : "cpu", threads, TorchVersion, CpuVectorExtension(), string.Join(" ", overrides), null, CpuInfo("vendor_id"));
    }

    /// <summary>
    /// How <paramref name="worker"/> differs from <paramref name="cluster"/> in what decides a shard's bits, one phrase
    /// per field in the form of the option that sets it (<c>--threads 2, the cluster runs 1</c>); empty when it does not.
    /// Threads and CPU kernels count for CPU work only; the devices for CUDA work only.
    /// </summary>
    public static IReadOnlyList<string> Differences(ComputeFingerprint worker, ComputeFingerprint cluster)
    {
        var differences = new List<string>();
        if (worker.Device != cluster.Device) differences.Add($"--device {worker.Device}, the cluster runs {cluster.Device}");
        if (worker.Torch != cluster.Torch) differences.Add($"TorchSharp {worker.Torch}, the cluster runs {cluster.Torch}");
        if (worker.Device == "cpu" && cluster.Device == "cpu")
        {
            if (worker.Threads != cluster.Threads) differences.Add($"--threads {worker.Threads}, the cluster runs {cluster.Threads}");
            if (worker.CpuVendor != cluster.CpuVendor) differences.Add($"a CPU of {worker.CpuVendor}, the cluster's is of {cluster.CpuVendor}");
            if (worker.CpuVector != cluster.CpuVector) differences.Add($"a CPU with {worker.CpuVector}, the cluster's has {cluster.CpuVector}");
            if (worker.NumericsEnvironment != cluster.NumericsEnvironment)
                differences.Add($"kernel overrides '{worker.NumericsEnvironment}', the cluster's '{cluster.NumericsEnvironment}'");
        }
        if (worker.Device == "cuda" && cluster.Device == "cuda" && worker.Accelerator != cluster.Accelerator)
            differences.Add($"{worker.Accelerator}, the cluster runs {cluster.Accelerator}");
        return differences;
    }

    /// <summary>One line for logs and summaries.</summary>
    public string Describe() =>
        $"{Device}, {Threads} thread(s), TorchSharp {Torch}, {CpuVendor} {CpuVector}{(NumericsEnvironment.Length > 0 ? ", " + NumericsEnvironment : "")}{(Accelerator is null ? "" : ", " + Accelerator)}";

    private static string TorchVersion => typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The widest vector extension in the first processor's flags (/proc/cpuinfo; elsewhere "unknown").</summary>
    private static string CpuVectorExtension()
    {
        var flags = CpuInfo("flags").Split(' ').ToHashSet();
        return flags.Contains("avx512f") ? "avx512" : flags.Contains("avx2") ? "avx2" : flags.Contains("avx") ? "avx" : flags.Contains("sse2") ? "sse" : "unknown";
    }

    /// <summary>The first processor's value of <paramref name="key"/> in /proc/cpuinfo, or "unknown".</summary>
    private static string CpuInfo(string key)
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal) && l.Contains(':'));
            return line is null ? "unknown" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return "unknown"; }
    }
}
