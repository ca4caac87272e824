// A worker node's metrics and readiness: which of its actors are admitted, and how many steps each has served.
using System.Collections.Concurrent;
using Prometheus;

namespace DistClip.Hosting.Metrics;

/// <summary>
/// <c>distclip_worker_joined</c> (1 while the worker actor is admitted to a job, else 0) and
/// <c>distclip_worker_steps_served_total</c> (steps it sent a shard sum for, each step counted once however many of its
/// shards the actor computed), labelled by the actor's name; the node is ready while one of its actors is admitted.
/// Told from the worker actors' threads (<see cref="Worker.WorkerSettings.Admitted"/>, <see cref="Worker.WorkerSettings.Served"/>).
/// </summary>
public sealed class WorkerMetrics
{
    private readonly HealthState _health;
    private readonly Gauge _joined;
    private readonly Counter _stepsServed;
    private readonly Dictionary<string, bool> _admitted = [];
    private readonly ConcurrentDictionary<string, long> _lastStepServed = new();   // each key written by its own actor only

    public WorkerMetrics(CollectorRegistry registry, HealthState health)
    {
        _health = health;
        var metrics = Prometheus.Metrics.WithCustomRegistry(registry);
        _joined = metrics.CreateGauge("distclip_worker_joined", "1 while the worker actor is admitted to a coordinator's job, else 0.", "worker");
        _stepsServed = metrics.CreateCounter("distclip_worker_steps_served_total", "Steps the worker actor sent a shard sum for.", "worker");
    }

    public void Admitted(string worker, bool admitted)
    {
        lock (_admitted)
        {
            _admitted[worker] = admitted;
            _joined.WithLabels(worker).Set(admitted ? 1 : 0);
            _health.SetReady(_admitted.Values.Any(a => a));
        }
    }

    public void Served(string worker, long step)
    {
        if (_lastStepServed.TryGetValue(worker, out var last) && last == step) return;
        _lastStepServed[worker] = step;
        _stepsServed.WithLabels(worker).Inc();
    }
}
