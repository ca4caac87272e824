// The bytes a node's links moved, as Prometheus counters labelled by worker and link.
using DistClip.Exchange;
using Prometheus;

namespace DistClip.Hosting.Metrics;

/// <summary>
/// <c>distclip_link_sent_bytes_total</c> and <c>distclip_link_received_bytes_total</c> with labels <c>worker</c> (the worker
/// actor's name) and <c>link</c> (<c>shared_memory</c>, <c>bulk_channel</c>, <c>chunks</c>): on a coordinator, parameters sent to
/// and gradients received from each worker; on a worker node, each of its actors' gradients sent and parameters received.
/// Copied from the <see cref="LinkTraffic"/> the links count in, at each scrape. In-process links (<c>train</c>) move nothing.
/// </summary>
public static class LinkTrafficMetrics
{
    public static void Export(CollectorRegistry registry, LinkTraffic traffic)
    {
        var metrics = Prometheus.Metrics.WithCustomRegistry(registry);
        string[] labels = ["worker", "link"];
        var sent = metrics.CreateCounter("distclip_link_sent_bytes_total", "Payload bytes of whole gradient and parameter transfers sent (4 a float; no framing).", labels);
        var received = metrics.CreateCounter("distclip_link_received_bytes_total", "Payload bytes of whole gradient and parameter transfers received (4 a float; no framing).", labels);
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (worker, link, bytesSent, bytesReceived) in traffic.Snapshot())
            {
                string kind = LabelOf(link);
                sent.WithLabels(worker, kind).IncTo(bytesSent);
                received.WithLabels(worker, kind).IncTo(bytesReceived);
            }
        });
    }

    private static string LabelOf(LinkKind link) => link switch
    {
        LinkKind.SharedMemory => "shared_memory",
        LinkKind.BulkChannel => "bulk_channel",
        LinkKind.Chunks => "chunks",
        _ => "in_process",
    };
}
