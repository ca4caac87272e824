// Binding a worker's thread (and the intra-op threads it starts) to chosen CPUs.
using System.Runtime.InteropServices;

namespace DistClip.Worker;

/// <summary>
/// Pins the calling OS thread to a set of CPUs (Linux <c>sched_setaffinity</c>). Threads it starts
/// afterwards — libtorch's OpenMP intra-op threads — inherit the set. Several worker processes on one
/// host otherwise migrate between the same cores and evict each other's caches (measured in
/// docs/BENCHMARKS.md); one CPU set per worker, as one GPU per worker, keeps them apart.
/// </summary>
public static class CpuAffinity
{
    private const int MaskBytes = 128;  // cpu_set_t: 1024 CPUs

    /// <summary>The CPUs of worker <paramref name="index"/> with <paramref name="threads"/> threads each: the index-th run of that many in <paramref name="cpus"/>.</summary>
    public static int[] ShareOf(IReadOnlyList<int> cpus, int index, int threads) => cpus.Skip(index * threads).Take(threads).ToArray();

    /// <summary>Checks a CPU list for <paramref name="workers"/> × <paramref name="threads"/>: one CPU per thread, no repeats, each on this machine.</summary>
    public static IReadOnlyList<int> Validate(IReadOnlyList<int> cpus, int workers, int threads, string option = "--cpus")
    {
        if (cpus.Count != workers * threads)
            throw new ArgumentException($"{option} lists {cpus.Count} CPU(s); {workers} worker(s) x {threads} thread(s) need exactly {workers * threads}.");
        if (cpus.Distinct().Count() != cpus.Count)
            throw new ArgumentException($"{option} names a CPU twice ({string.Join(',', cpus)}).");
        foreach (var cpu in cpus)
            if (cpu < 0 || cpu >= Environment.ProcessorCount)
                throw new ArgumentException($"{option}: CPU {cpu} does not exist here (CPUs 0-{Environment.ProcessorCount - 1}).");
        return cpus;
    }

    /// <summary>Parses "0,1,4" (or null/empty: no pinning).</summary>
    public static IReadOnlyList<int>? Parse(string? text, string option = "--cpus")
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Split(',', StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var cpu) ? cpu
            : throw new ArgumentException($"{option}: '{s}' is not a CPU number (expected a list like 0,1).")).ToArray();
    }

    /// <summary>Pins the calling thread to <paramref name="cpus"/>; throws if the system refuses.</summary>
    public static void PinCurrentThread(IReadOnlyList<int> cpus)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("Pinning worker threads to CPUs is supported on Linux only.");
        var mask = new byte[MaskBytes];
        foreach (var cpu in cpus) mask[cpu / 8] |= (byte)(1 << (cpu % 8));
        if (SchedSetAffinity(0, MaskBytes, mask) != 0)
            throw new InvalidOperationException($"Could not pin the worker thread to CPU(s) {string.Join(',', cpus)}: error {Marshal.GetLastPInvokeError()}.");
    }

    /// <summary>The CPUs the calling thread may run on.</summary>
    public static IReadOnlyList<int> OfCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return Enumerable.Range(0, Environment.ProcessorCount).ToArray();
        var mask = new byte[MaskBytes];
        if (SchedGetAffinity(0, MaskBytes, mask) != 0) throw new InvalidOperationException($"sched_getaffinity failed: error {Marshal.GetLastPInvokeError()}.");
        return Enumerable.Range(0, MaskBytes * 8).Where(c => (mask[c / 8] & (1 << (c % 8))) != 0).ToArray();
    }

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint size, byte[] mask);

    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int SchedGetAffinity(int pid, nint size, byte[] mask);
}
