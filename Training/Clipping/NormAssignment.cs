// Which worker measures which tensor's norm in the sharded exchange: whole tensors, balanced by size.
namespace DistClip.Training.Clipping;

/// <summary>
/// Every parameter tensor assigned to one of <see cref="Workers"/> measurers, whole (a tensor's norm is taken on the
/// whole tensor with the central path's kernel, so the same bits): largest tensors first, each to the least-loaded
/// worker (ties: the lowest index). The coordinator gets each tensor's norm from its measurer and combines them in
/// tensor order, so the assignment changes who computes, never what.
/// </summary>
public sealed class NormAssignment
{
    private readonly int[] _measurer;

    public int Workers { get; }

    /// <summary>The worker that measures tensor t.</summary>
    public int MeasurerOf(int tensor) => _measurer[tensor];

    /// <summary>The tensors worker <paramref name="worker"/> measures, in tensor order.</summary>
    public IReadOnlyList<int> TensorsOf(int worker) => Enumerable.Range(0, _measurer.Length).Where(t => _measurer[t] == worker).ToArray();

    public NormAssignment(IReadOnlyList<long> tensorSizes, int workers)
    {
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "must be at least 1");
        Workers = workers;
        _measurer = new int[tensorSizes.Count];
        var load = new long[workers];
        foreach (int t in Enumerable.Range(0, tensorSizes.Count).OrderByDescending(t => tensorSizes[t]).ThenBy(t => t))
        {
            int least = 0;
            for (int w = 1; w < workers; w++) if (load[w] < load[least]) least = w;
            _measurer[t] = least;
            load[least] += tensorSizes[t];
        }
    }
}
