// The coordinator's view of a run as Prometheus metrics: fed by its step reports, read at each scrape.
using DistClip.Coordinator;
using DistClip.Exchange;
using Prometheus;

namespace DistClip.Hosting.Metrics;

/// <summary>
/// The metrics of a run on the coordinator (<c>train</c> or <c>coordinator</c>), from its <see cref="StepReport"/>s and
/// admissions: the step (<c>distclip_step</c>, steps completed, a resumed run's earlier ones included; of
/// <c>distclip_steps_planned</c>), each step's wall time (<c>distclip_step_seconds</c>, a histogram), the last step's
/// samples per second and the samples so far, the last pre-clip global gradient norm and clip coefficient, the skipped
/// steps, the workers present, and with checkpoints the seconds since this process last wrote one. Called on the
/// coordinator's thread; prometheus-net's metrics are safe to read from the endpoint's.
/// </summary>
public sealed class MetricsObserver : ITrainingObserver
{
    private readonly Gauge _step, _samplesPerSecond, _gradNorm, _clipCoefficient, _workers;
    private readonly Histogram _stepSeconds;
    private readonly Counter _samples, _skipped;
    private readonly HashSet<string> _present = [];

    public MetricsObserver(CollectorRegistry registry, CoordinatorSetup setup)
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(registry);
        _step = metrics.CreateGauge("distclip_step", "Steps completed: the number of the last completed step, counted from 1 (a resumed run's earlier steps included).");
        _step.Set(setup.Plan.Resumed?.Steps ?? 0);
        metrics.CreateGauge("distclip_steps_planned", "Steps the run is to take in all.").Set(setup.Plan.TotalSteps);
        _stepSeconds = metrics.CreateHistogram("distclip_step_seconds", "Wall time of each step, from planning to the optimizer step.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });   // 1 ms to 33 s
        _samplesPerSecond = metrics.CreateGauge("distclip_samples_per_second", "Samples of the last step divided by its wall time.");
        _samples = metrics.CreateCounter("distclip_samples_total", "Samples trained on by this process.");
        _gradNorm = metrics.CreateGauge("distclip_grad_norm", "Pre-clip global norm of the last step's reduced gradient (NaN or +Inf when it was not finite).");
        _clipCoefficient = metrics.CreateGauge("distclip_clip_coefficient", "Clip coefficient of the last step (1: not clipped).");
        _skipped = metrics.CreateCounter("distclip_skipped_steps_total", "Steps skipped by this process because the global norm was not finite (--nonfinite skip).");
        _workers = metrics.CreateGauge("distclip_workers", "Worker actors admitted to the run and not gone.");
        if (setup.Checkpoints is { } checkpoints) ExportCheckpointAge(registry, metrics, checkpoints);
    }

    /// <summary><paramref name="observer"/> and, with an endpoint, this run's metrics in its registry beside it.</summary>
    public static ITrainingObserver Beside(ITrainingObserver observer, MetricsEndpoint? endpoint, CoordinatorSetup setup, StopRequest stop) =>
        endpoint is null ? observer : new Observers(stop, observer, new MetricsObserver(endpoint.Registry, setup));

    public void OnStep(StepReport report)
    {
        _step.Set(report.Step + 1);
        _stepSeconds.Observe(report.Seconds);
        if (report.Seconds > 0) _samplesPerSecond.Set(report.Samples / report.Seconds);
        _samples.Inc(report.Samples);
        _gradNorm.Set(report.Outcome.GradNorm);
        _clipCoefficient.Set(report.Outcome.ClipCoefficient);
        if (report.Outcome.Skipped) _skipped.Inc();
    }

    public void OnWorkerAdmitted(string worker, string device, LinkKind link)
    {
        _present.Add(worker);
        _workers.Set(_present.Count);
    }

    public void OnWorkerLeft(string worker)
    {
        _present.Remove(worker);
        _workers.Set(_present.Count);
    }

    /// <summary><c>distclip_checkpoint_age_seconds</c>, computed at each scrape; absent until this process has written a checkpoint.</summary>
    private static void ExportCheckpointAge(CollectorRegistry registry, IMetricFactory metrics, Checkpoints.RunCheckpoints checkpoints)
    {
        var age = metrics.CreateGauge("distclip_checkpoint_age_seconds", "Seconds since this process last wrote a checkpoint of the run.",
            new GaugeConfiguration { SuppressInitialValue = true });
        registry.AddBeforeCollectCallback(() =>
        {
            if (checkpoints.LastWrittenAt is { } at) age.Set((DateTime.UtcNow - at).TotalSeconds);
        });
    }
}
