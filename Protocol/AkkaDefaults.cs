// The HOCON defaults every DistClip actor system starts from.
namespace DistClip.Protocol;

/// <summary>Akka.NET configuration shared by every DistClip node; deployments layer their settings on top.</summary>
public static class AkkaDefaults
{
    /// <summary>Name of the dispatcher that gives each worker actor its own OS thread.</summary>
    public const string WorkerDispatcher = "distclip.worker-dispatcher";

    public const string Hocon = """
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
        }
        distclip {
          # Tensor work blocks a thread for the whole forward/backward pass: one OS thread per worker.
          worker-dispatcher {
            type = PinnedDispatcher
          }
        }
        """;
}
