// Plain progress lines, one per log interval, plus the metrics file.
using System.Globalization;
using System.Text.Json;
using DistClip.Coordinator;
using DistClip.Exchange;

namespace DistClip.Hosting;

/// <summary>
/// Writes a progress line every <c>logEvery</c> steps (loss averaged over the interval, last pre-clip
/// norm, clip rate and samples/s over the interval) unless <paramref name="output"/> is null, and, when
/// a path is given, one JSON object per step. A resumed run (<paramref name="firstStep"/> &gt; 0) keeps the file's lines of
/// the steps before it and drops those of steps it computes again.
/// </summary>
public sealed class ProgressLog(TextWriter? output, int logEvery, long totalSteps, string? metricsPath, long firstStep = 0) : ITrainingObserver, IDisposable
{
    // Flushed line by line: a write that fails (a full disk) fails in OnStep, where the run can still stop cleanly.
    private readonly StreamWriter? _metrics = metricsPath is null ? null : Open(metricsPath, firstStep);
    private double _lossSum, _seconds;
    private int _steps, _clipped, _samples;

    public void OnWorkerAdmitted(string worker, string device, LinkKind link)
    {
        if (link == LinkKind.InProcess) return;  // the embedded trainer's own workers: nothing to tell
        output?.WriteLine($"admitted {worker} on {device}, exchanging {link switch
        {
            LinkKind.SharedMemory => "through shared memory (same host)",
            LinkKind.BulkChannel => "through the bulk channel",
            _ => "as chunks through Akka.Remote",
        }}");
    }

    public void OnStep(StepReport r)
    {
        WriteMetrics(new
        {
            step = r.Step,
            epoch = r.Epoch,
            loss = JsonNumber(r.Loss),
            grad_norm = JsonNumber(r.Outcome.GradNorm),
            grad_norm_clipped = JsonNumber(r.Outcome.PostClipNorm),
            clip_coef = JsonNumber(r.Outcome.ClipCoefficient),
            clipped = r.Outcome.Clipped,
            clipped_units = r.Outcome.Clip.ClippedUnits,
            units = r.Outcome.Clip.Units,
            clip_threshold = JsonNumber(r.Outcome.Clip.Threshold),
            skipped = r.Outcome.Skipped,
            lr = r.Outcome.LearningRate,
            samples = r.Samples,
            shards = r.Shards,
            bad_shards = r.BadShards,
            seconds = r.Seconds,
        });
        _lossSum += r.Loss; _seconds += r.Seconds; _steps++; _samples += r.Samples;
        if (r.Outcome.Clipped) _clipped++;
        if (output is null || (r.Step + 1) % logEvery != 0 && r.Step + 1 != totalSteps) return;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {r.Step + 1,6}/{totalSteps}  epoch {r.Epoch + 1}  loss {_lossSum / _steps:F4}  norm {r.Outcome.GradNorm:G4}  clip {100.0 * _clipped / _steps:F0}%  {_samples / Math.Max(_seconds, 1e-9):F0} samples/s"));
        _lossSum = _seconds = 0; _steps = _clipped = _samples = 0;
    }

    // JSON has no NaN or infinity: those are written as strings so every line stays valid JSON.
    private static object JsonNumber(double x) => double.IsFinite(x) ? x : x.ToString(CultureInfo.InvariantCulture);

    private static StreamWriter Open(string path, long firstStep)
    {
        var kept = firstStep > 0 && File.Exists(path)
            ? File.ReadLines(path).Where(l => StepOf(l) is { } step && step < firstStep).ToList()
            : [];
        File.WriteAllLines(path, kept);
        return new StreamWriter(path, append: true) { AutoFlush = true };
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.TryGetProperty("step", out var step) && step.TryGetInt64(out var value) ? value : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; }  // a line cut off by a crash, or not an object
    }

    private void WriteMetrics(object line)
    {
        try { _metrics?.WriteLine(JsonSerializer.Serialize(line)); }
        catch (IOException e) { throw new IOException($"writing the metrics file {metricsPath} failed: {e.Message}", e); }
    }

    public void Dispose()
    {
        try { _metrics?.Dispose(); }
        catch (IOException) { }  // every line was flushed when written; a failure was reported then
    }
}
