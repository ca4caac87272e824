// Only nodes with a certificate of the cluster's CA get in: a TLS run is the plaintext run, bit for bit, whoever else knocks.
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

/// <summary>
/// Real processes on loopback, certificates made by the real <c>distclip certs</c>: a coordinator and two workers with
/// <c>--tls</c> (one through <c>DISTCLIP_TLS_DIR</c>), exchanging through the bulk channel (shared memory off, so that
/// gradients and parameters cross TLS as between hosts), while intruders try to get in: a worker with a certificate of
/// another CA (refused with one line, exit 1), one without TLS (never past the handshake, gives up after its
/// --coordinator-timeout), one whose certificate of the cluster's CA expired before the coordinator came up (the coordinator
/// refuses it; it gives up after its --coordinator-timeout, saying that its certificate expired), and TLS clients that present no
/// certificate at the Akka port and the bulk port (refused). The run's weights are those of the plaintext run.
/// </summary>
public sealed class MutualTlsSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-mtls-").FullName;

    private static readonly string[] Job =
        ["--model", "lenet", "--train-samples", "2000", "--global-batch", "32", "--steps", "400", "--seed", "11", "--log-every", "100", "--no-eval"];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(params string[] parts) => Path.Combine([_dir, .. parts]);

    [Fact]
    public async Task Should_train_over_mutual_TLS_to_the_plaintext_bits_and_refuse_nodes_without_the_clusters_certificate()
    {
        var made = CliProcess.Run(Timeout, "certs", At("ours"), "--node", "coordinator", "--node", "worker-a", "--node", "worker-b");
        Assert.True(made.ExitCode == 0, made.Stderr);
        Assert.Contains($"start the node with --tls {At("ours", "worker-a")}", made.Stdout);
        Assert.Equal(0, CliProcess.Run(Timeout, "certs", At("theirs")).ExitCode);

        DistClip.Exchange.Tls.ClusterCertificates.Create(At("ours"), ["expiring"], TimeSpan.FromSeconds(15));
        var expiresAt = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(At("ours", "expiring", "node.crt"))).NotAfter.ToUniversalTime();

        int port = LoopbackPorts.Free(), bulkPort = LoopbackPorts.Free();
        string seed = $"akka.tcp://distclip@127.0.0.1:{port}";  // a plain seed address: the TLS scheme is taken from --tls
        using var expired = CliProcess.Start("worker", "--seed-nodes", seed, "--tls", At("ours", "expiring"), "--coordinator-timeout", "25");
        expired.WaitForOutput("mutual TLS on every connection", 1, TimeSpan.FromSeconds(60));   // it loaded its certificate (while valid); it then looks for a seed node quietly
        if (expiresAt.AddSeconds(1.5) - DateTime.UtcNow is { Ticks: > 0 } untilExpired) Thread.Sleep(untilExpired);
        Assert.False(expired.HasExited, "the worker whose certificate expired has stopped before the coordinator started");
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--bulk-port", $"{bulkPort}", "--min-workers", "2",
            "--tls", At("ours", "coordinator"), "--shared-memory", "off", .. Job, "--save", At("run.safetensors")]);
        using var otherCa = CliProcess.Start("worker", "--seed-nodes", seed, "--tls", At("theirs", "node"));
        using var noTls = CliProcess.Start("worker", "--seed-nodes", seed, "--coordinator-timeout", "20");
        using var first = CliProcess.Start("worker", "--seed-nodes", seed, "--tls", At("ours", "worker-a"), "--shared-memory", "off");
        using var second = CliProcess.StartWith(new Dictionary<string, string> { ["DISTCLIP_TLS_DIR"] = At("ours", "worker-b") },
            "worker", "--seed-nodes", seed, "--shared-memory", "off");

        await LoopbackPorts.WaitForListenerAsync(port, Timeout);
        await LoopbackPorts.WaitForListenerAsync(bulkPort, Timeout);
        Assert.True(await Tls.CertificatelessClient.IsRefusedAsync(port, TimeSpan.FromSeconds(10)), "a TLS client without a certificate got past the Akka port's handshake");
        Assert.True(await Tls.CertificatelessClient.IsRefusedAsync(bulkPort, TimeSpan.FromSeconds(10)), "a TLS client without a certificate got past the bulk port's handshake");

        var refused = otherCa.Finish(Timeout);
        output.WriteLine(refused.Stdout + refused.Stderr);
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Stdout}\n{refused.Stderr}");
        Assert.Contains("distclip: the seed node is not of this cluster", refused.Stderr);
        var gaveUp = noTls.Finish(Timeout);
        Assert.Equal(1, gaveUp.ExitCode);
        Assert.Contains("no coordinator reachable", gaveUp.Stderr);

        var retried = expired.Finish(Timeout);
        output.WriteLine(retried.Stdout + retried.Stderr);
        Assert.True(retried.ExitCode == 1, $"exit {retried.ExitCode}\n{retried.Stdout}\n{retried.Stderr}");
        Assert.Contains("no coordinator reachable", retried.Stderr);
        Assert.Contains("This node's certificate expired at", retried.Stderr);

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout);
        output.WriteLine(run.Stderr);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains($"coordinator listening at akka.ssl.tcp://distclip@127.0.0.1:{port}", run.Stdout);
        Assert.Matches(@"mutual TLS on every connection \(Akka.Remote and the bulk channel\), encrypted with OpenSSL \d+\.\d+\.\d+", run.Stdout);
        Assert.Equal(2, run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal) && l.EndsWith("exchanging through the bulk channel", StringComparison.Ordinal)));
        // The intruders' many attempts, all from 127.0.0.1: one line a minute says them.
        var refusals = run.Stderr.Split('\n').Where(l => l.Contains("refused a TLS connection with", StringComparison.Ordinal)).ToList();
        Assert.True(refusals.Count is 1 or 2, string.Join('\n', refusals));
        Assert.Matches(@"not of this cluster \((CN=node|CN=expiring|no certificate)", refusals[0]);
        Assert.DoesNotContain("TLS handshake failed", run.Stdout + run.Stderr);  // Akka's multi-line error per attempt is kept out of the log
        var firstWorker = first.Finish(TimeSpan.FromSeconds(60));
        Assert.Equal(0, firstWorker.ExitCode);
        Assert.Matches(@"mutual TLS on every connection \(Akka.Remote and the bulk channel\), encrypted with OpenSSL \d+\.\d+\.\d+", firstWorker.Stdout);
        Assert.Equal(0, second.Finish(TimeSpan.FromSeconds(60)).ExitCode);

        var reference = CliProcess.Run(Timeout, ["train", .. Job, "--workers", "2", "--save", At("plaintext.safetensors")]);
        Assert.True(reference.ExitCode == 0, reference.Stderr);
        Assert.True(File.ReadAllBytes(At("plaintext.safetensors")).AsSpan().SequenceEqual(File.ReadAllBytes(At("run.safetensors"))),
            "the TLS run differs from the plaintext run");
    }
}
