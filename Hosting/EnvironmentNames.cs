// Every DISTCLIP_* environment variable the CLI reads, in one place (deployments are checked against it).
namespace DistClip.Hosting;

/// <summary>Names of the environment variables that configure a node; flags win over them.</summary>
public static class EnvironmentNames
{
    public const string Hostname = "DISTCLIP_HOSTNAME";
    public const string PublicHostname = "DISTCLIP_PUBLIC_HOSTNAME";
    public const string Port = "DISTCLIP_PORT";
    public const string SeedNodes = "DISTCLIP_SEED_NODES";
    public const string BulkPort = "DISTCLIP_BULK_PORT";
    public const string SharedMemory = "DISTCLIP_SHARED_MEMORY";
    public const string Workers = "DISTCLIP_WORKERS";
    public const string Device = "DISTCLIP_DEVICE";
    public const string Threads = "DISTCLIP_THREADS";
    public const string Cpus = "DISTCLIP_CPUS";
    public const string DataDir = "DISTCLIP_DATA_DIR";
    public const string MinWorkers = "DISTCLIP_MIN_WORKERS";
    public const string CoordinatorTimeout = "DISTCLIP_COORDINATOR_TIMEOUT";
    public const string Linger = "DISTCLIP_LINGER";
    public const string SecretFile = "DISTCLIP_SECRET_FILE";
    public const string TlsDirectory = "DISTCLIP_TLS_DIR";
    public const string LogLevel = "DISTCLIP_LOG_LEVEL";
    public const string MetricsPort = "DISTCLIP_METRICS_PORT";

    public static IReadOnlyList<string> All { get; } = [Hostname, PublicHostname, Port, SeedNodes, BulkPort, SharedMemory, Workers, Device, Threads, Cpus, DataDir, MinWorkers, CoordinatorTimeout, Linger, SecretFile, TlsDirectory, LogLevel, MetricsPort];
}
