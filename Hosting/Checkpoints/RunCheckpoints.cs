// The coordinator's checkpoints of one run: every N steps and at the end, into the run's checkpoint folder.
using DistClip.Coordinator;
using DistClip.Protocol;

namespace DistClip.Hosting.Checkpoints;

/// <summary>
/// Writes the coordinator's whole training state every <paramref name="every"/> steps and when the run ends (also
/// early: a SIGTERM is how Kubernetes stops a pod), never twice for the same step.
/// </summary>
/// <param name="compute">The cluster's compute, recorded in every checkpoint.</param>
public sealed class RunCheckpoints(CheckpointStore store, int every, SortedDictionary<string, string> trajectory, long startStep, Action<string>? written = null, string? compute = null)
    : ICheckpointWriter
{
    private long _lastWritten = startStep;
    private long _lastWrittenAtTicks;   // UTC; 0 before this process wrote one. Read from the metrics endpoint's thread.

    /// <summary>The step of the newest checkpoint of this run: the last one written, or the one it resumed from.</summary>
    public long NewestStep => _lastWritten;

    /// <summary>When this process last wrote a checkpoint of the run (UTC); null before its first.</summary>
    public DateTime? LastWrittenAt => Interlocked.Read(ref _lastWrittenAtTicks) is var ticks and > 0 ? new DateTime(ticks, DateTimeKind.Utc) : null;

    /// <summary>The folder the checkpoints are written into.</summary>
    public string Folder => store.Folder;

    /// <summary>Seconds and bytes of every checkpoint written, for reports.</summary>
    public List<(long Step, double Seconds, long Bytes)> Written { get; } = [];

    public void OnStepCompleted(RunCounters counters, MasterWeights master)
    {
        if (counters.Steps % every == 0) Write(counters, master);
    }

    public void OnRunEnded(RunCounters counters, MasterWeights master) => Write(counters, master);

    private void Write(RunCounters c, MasterWeights master)
    {
        if (c.Steps == _lastWritten) return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var folder = store.Write(c.Steps, into =>
        {
            master.WriteState(into);
            new CheckpointState(ProtocolVersion.Current, master.Signature.Hash, master.Signature.Description, c.Steps, c.Version, c.Skipped, c.Clipped,
                c.Samples, master.ClipHistory.ToArray(), trajectory, compute).Write(Path.Combine(into, CheckpointState.FileName));
        });
        _lastWritten = c.Steps;
        Interlocked.Exchange(ref _lastWrittenAtTicks, DateTime.UtcNow.Ticks);
        long bytes = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
        Written.Add((c.Steps, clock.Elapsed.TotalSeconds, bytes));
        written?.Invoke($"checkpoint after step {c.Steps} written to {folder} ({bytes / 1e6:F1} MB, {clock.Elapsed.TotalSeconds:F2} s)");
    }
}
