// Node configuration: flags, then DISTCLIP_* variables, then defaults; bad values named.
using DistClip.Hosting;
using Xunit;

namespace DistClip.Tests.Cli;

public class NodeSettingsSpecs
{
    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Should_take_flags_over_environment_over_defaults()
    {
        var env = Env(("DISTCLIP_HOSTNAME", "10.0.0.5"), ("DISTCLIP_PORT", "5000"), ("DISTCLIP_PUBLIC_HOSTNAME", "pod-0.svc"),
            ("DISTCLIP_SEED_NODES", "akka.tcp://distclip@a:4053, akka.tcp://distclip@b:4053"));
        var fromEnv = NodeSettings.Resolve("worker", null, null, null, null, env);
        Assert.Equal(("10.0.0.5", "pod-0.svc", 5000), (fromEnv.Hostname, fromEnv.PublicHostname, fromEnv.Port));
        Assert.Equal(["akka.tcp://distclip@a:4053", "akka.tcp://distclip@b:4053"], fromEnv.SeedNodes);
        Assert.Contains("public-hostname = \"pod-0.svc\"", fromEnv.Hocon());

        var fromFlags = NodeSettings.Resolve("worker", "0.0.0.0", null, 6000, "akka.tcp://distclip@c:1", env);
        Assert.Equal(("0.0.0.0", 6000), (fromFlags.Hostname, fromFlags.Port));
        Assert.Equal(["akka.tcp://distclip@c:1"], fromFlags.SeedNodes);

        var defaults = NodeSettings.Resolve("coordinator", null, null, null, null, Env());
        Assert.Equal(("127.0.0.1", 4053, 0), (defaults.Hostname, defaults.Port, defaults.SeedNodes.Count));
    }

    [Fact]
    public void Should_name_a_bad_port_or_seed_node()
    {
        Assert.Contains("DISTCLIP_PORT", Assert.Throws<ArgumentException>(() => NodeSettings.Resolve("worker", null, null, null, null, Env(("DISTCLIP_PORT", "http")))).Message);
        Assert.Contains("--port", Assert.Throws<ArgumentException>(() => NodeSettings.Resolve("worker", null, null, 70000, null, Env())).Message);
        Assert.Contains("'coordinator:4053'", Assert.Throws<ArgumentException>(() => NodeSettings.Resolve("worker", null, null, null, "coordinator:4053", Env())).Message);
        Assert.Contains("DISTCLIP_SHARED_MEMORY", Assert.Throws<ArgumentException>(() => NodeSettings.Resolve("worker", null, null, null, null, Env(("DISTCLIP_SHARED_MEMORY", "yes")))).Message);
    }

    [Fact]
    public void Should_offer_shared_memory_unless_switched_off()
    {
        Assert.Equal("/dev/shm", NodeSettings.Resolve("worker", null, null, null, null, Env()).Bulk(0).SharedMemoryDirectory);
        Assert.Null(NodeSettings.Resolve("worker", null, null, null, null, Env(("DISTCLIP_SHARED_MEMORY", "off"))).Bulk(0).SharedMemoryDirectory);
        Assert.Equal("/dev/shm", NodeSettings.Resolve("worker", null, null, null, null, Env(("DISTCLIP_SHARED_MEMORY", "off")), sharedMemory: "on").Bulk(1).SharedMemoryDirectory);
    }

    [Fact]
    public void Should_speak_TLS_with_a_certificate_directory_and_seed_in_its_scheme()
    {
        var dir = Directory.CreateTempSubdirectory("distclip-tls-").FullName;
        try
        {
            DistClip.Exchange.Tls.ClusterCertificates.Create(dir, ["node"], TimeSpan.FromDays(1));
            var node = Path.Combine(dir, "node");
            var tls = NodeSettings.Resolve("worker", null, null, null, "akka.tcp://distclip@a:4053", Env(("DISTCLIP_TLS_DIR", node)));
            Assert.NotNull(tls.Tls);
            Assert.Same(tls.Tls, tls.Bulk(0).Tls);
            Assert.Equal(["akka.ssl.tcp://distclip@a:4053"], tls.SeedNodes);  // a deployment's plain seed list works either way
            Assert.Contains("enable-ssl = on", tls.Hocon());

            var plain = NodeSettings.Resolve("worker", null, null, null, "akka.tcp://distclip@a:4053", Env());
            Assert.Null(plain.Tls);
            Assert.Contains("enable-ssl = off", plain.Hocon());
            var noCertificates = Assert.Throws<ArgumentException>(() => NodeSettings.Resolve("worker", null, null, null, "akka.ssl.tcp://distclip@a:4053", Env()));
            Assert.Contains("has no certificates: give it --tls DIR", noCertificates.Message);
            var missing = Assert.Throws<ArgumentException>(() => NodeSettings.Resolve("worker", null, null, null, null, Env(), tlsDirectory: dir));
            Assert.Contains($"--tls {dir}: no node.crt there", missing.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
