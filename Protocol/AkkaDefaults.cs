// The HOCON defaults every DistClip actor system starts from.
namespace DistClip.Protocol;

/// <summary>Akka.NET configuration shared by every DistClip node; deployments layer their settings on top.</summary>
public static class AkkaDefaults
{
    /// <summary>Name of the dispatcher that gives each worker actor its own OS thread.</summary>
    public const string WorkerDispatcher = "distclip.worker-dispatcher";

    /// <summary>
    /// Name of the dispatcher of the coordinator: its own OS thread too, so that its intra-op thread
    /// count can be set (libtorch's OpenMP setting is per thread; a thread-pool thread would run the
    /// optimizer step with one OpenMP thread per core, whose spinning steals the workers' cores).
    /// </summary>
    public const string CoordinatorDispatcher = "distclip.coordinator-dispatcher";

    public const string Hocon = """
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          # SIGINT/SIGTERM are DistClip's to handle: the run stops at a step boundary, saves, and the node
          # leaves the cluster itself. Akka's own handler would terminate the actor system mid-step.
          coordinated-shutdown.run-by-clr-shutdown-hook = off
          remote.dot-netty.tcp {
            # Bulk data travels in chunks of 512 KiB (Exchange/Chunks/Chunking.cs); frames are bounded just above that.
            maximum-frame-size = 1 MiB
            send-buffer-size = 4 MiB
            receive-buffer-size = 4 MiB
            # The step protocol is request/response: write batching would hold each small message
            # for up to its flush interval (40 ms by default).
            batching.enabled = false
          }
          actor {
            serializers {
              distclip = "DistClip.Protocol.Wire.DistClipSerializer, DistClip.Protocol"
              distclip-hyperion = "DistClip.Protocol.Wire.HyperionFallbackSerializer, DistClip.Protocol"
            }
            serialization-bindings {
              "DistClip.Protocol.IWireMessage, DistClip.Protocol" = distclip
              # Never Akka's Newtonsoft default on the wire.
              "System.Object" = distclip-hyperion
            }
          }
        }
        distclip {
          # Tensor work blocks a thread for the whole forward/backward pass: one OS thread per worker, which sleeps
          # without spinning when it has nothing to do (OwnThreadDispatcher.cs).
          worker-dispatcher {
            type = "DistClip.Protocol.OwnThreadDispatcherConfigurator, DistClip.Protocol"
          }
          coordinator-dispatcher {
            type = "DistClip.Protocol.OwnThreadDispatcherConfigurator, DistClip.Protocol"
          }
        }
        """;
}
