// The cluster's certificates: what `distclip certs` makes is trusted by its own CA only; the bulk channel authenticates with them by mutual TLS and seals its frames.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using DistClip.Exchange;
using DistClip.Exchange.Bulk;
using DistClip.Exchange.Tls;
using DistClip.Protocol;
using Xunit;

namespace DistClip.Tests.Tls;

public sealed class ClusterTlsSpecs : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(params string[] parts) => Path.Combine([_dir, .. parts]);

    private ClusterTls Node(string cluster, string node) => ClusterTls.Load(At(cluster, node), "--tls");

    [Fact]
    public void Should_make_a_CA_and_node_certificates_that_it_and_only_it_trusts()
    {
        var made = ClusterCertificates.Create(At("ours"), ["coordinator", "worker"], TimeSpan.FromDays(30));
        ClusterCertificates.Create(At("theirs"), ["node"], TimeSpan.FromDays(30));
        Assert.Equal([At("ours", "coordinator"), At("ours", "worker")], made);

        using var coordinator = Node("ours", "coordinator");
        using var worker = Node("ours", "worker");
        using var stranger = Node("theirs", "node");
        Assert.True(coordinator.Accepts(worker.Certificate, out var why), why);
        Assert.True(worker.Accepts(coordinator.Certificate, out why), why);
        Assert.False(coordinator.Accepts(stranger.Certificate, out why));
        Assert.Contains("CN=node", why);
        Assert.False(stranger.Accepts(worker.Certificate, out _));
        Assert.False(coordinator.Accepts(null, out why));
        Assert.Equal("no certificate", why);
        // A certificate that claims the CA's name but is self-signed is not the CA's.
        using var impostor = SelfSigned(coordinator.Authority.Subject);
        Assert.False(worker.Accepts(impostor, out _));

        if (!OperatingSystem.IsWindows())
            foreach (var key in new[] { At("ours", "ca.key"), At("ours", "worker", "node.key") })
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        // Valid for the 30 days asked, from an hour back (nodes' clocks differ): read off the certificate, not the clock.
        Assert.Equal(TimeSpan.FromDays(30) + TimeSpan.FromHours(1), worker.Certificate.NotAfter - worker.Certificate.NotBefore);
    }

    [Fact]
    public void Should_sign_nodes_added_later_with_the_same_CA_and_never_overwrite_a_node()
    {
        ClusterCertificates.Create(At("c"), ["a"], TimeSpan.FromDays(30));
        var ca = File.ReadAllText(At("c", "ca.crt"));
        ClusterCertificates.Create(At("c"), ["b"], TimeSpan.FromDays(30));
        Assert.Equal(ca, File.ReadAllText(At("c", "ca.crt")));
        using (var a = Node("c", "a"))
        using (var b = Node("c", "b"))
            Assert.True(a.Accepts(b.Certificate, out var why), why);

        var key = File.ReadAllText(At("c", "a", "node.key"));
        var again = Assert.Throws<ArgumentException>(() => ClusterCertificates.Create(At("c"), ["a"], TimeSpan.FromDays(30)));
        Assert.Contains("--node a", again.Message);
        Assert.Equal(key, File.ReadAllText(At("c", "a", "node.key")));
        Assert.Throws<ArgumentException>(() => ClusterCertificates.Create(At("c"), ["../up"], TimeSpan.FromDays(30)));
    }

    [Fact]
    public void Should_name_the_option_and_the_file_when_a_node_directory_is_incomplete()
    {
        ClusterCertificates.Create(At("c"), ["a"], TimeSpan.FromDays(30));
        File.Delete(At("c", "a", "node.key"));
        var e = Assert.Throws<ArgumentException>(() => ClusterTls.Load(At("c", "a"), "DISTCLIP_TLS_DIR"));
        Assert.Contains("DISTCLIP_TLS_DIR", e.Message);
        Assert.Contains("no node.key there", e.Message);
    }

    [Fact]
    public void Should_carry_frames_over_mutual_TLS_and_refuse_peers_of_another_CA_or_without_TLS()
    {
        ClusterCertificates.Create(At("ours"), ["coordinator", "worker"], TimeSpan.FromDays(30));
        ClusterCertificates.Create(At("theirs"), ["node"], TimeSpan.FromDays(30));
        var received = new BlockingCollection<BulkMessage>();
        var warnings = new ConcurrentQueue<string>();
        var ours = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, Tls: Node("ours", "coordinator"));
        using var receiver = ours.Open(1000, received.Add, warnings.Enqueue);
        using var sender = (ours with { Tls = Node("ours", "worker") }).Open(1000, _ => { }, warnings.Enqueue);
        using var stranger = (ours with { Tls = Node("theirs", "node") }).Open(1000, _ => { }, warnings.Enqueue);
        using var plain = (ours with { Tls = null }).Open(1000, _ => { }, warnings.Enqueue);

        var gradients = new ShardGradients(3, 2, 1, 8, 4.5, Enumerable.Range(0, 1000).Select(i => MathF.Sin(i)).ToArray());
        Assert.True(sender.TrySend(receiver.Endpoint, BulkMessage.Of(gradients, 5), out var failure), failure);
        Assert.True(received.TryTake(out var frame, Wait), "no frame arrived over TLS");
        Assert.Equal(gradients.GradientSum.Select(BitConverter.SingleToInt32Bits), frame!.Values.Select(BitConverter.SingleToInt32Bits));

        Assert.False(stranger.TrySend(receiver.Endpoint, BulkMessage.Of(gradients, 5), out failure));
        Assert.Contains("not of this cluster", failure);
        // Refusals are said once a minute per address: the stranger's, before the plain sender's from the same address.
        for (var until = DateTime.UtcNow + Wait; warnings.IsEmpty && DateTime.UtcNow < until;) Thread.Sleep(20);
        Assert.Contains(warnings, w => w.Contains("refused a connection") && w.Contains("not of this cluster"));
        // A frame without TLS: the listener closes the connection instead of reading a frame from it (one it let through
        // would be delivered, and its connection read on), so once the close is seen, nothing may have arrived.
        using (var raw = new TcpClient())
        {
            raw.Connect("127.0.0.1", int.Parse(receiver.Endpoint.Split(':')[1]));
            var stream = raw.GetStream();
            var framed = new MemoryStream();
            BulkFrame.Write(framed, BulkMessage.Of(gradients, 5));
            try { stream.Write(framed.ToArray()); } catch (IOException) { }   // the listener may have closed it already
            stream.ReadTimeout = (int)Wait.TotalMilliseconds;
            Assert.True(ReadsToEnd(stream), "a frame without TLS was not refused");
        }
        Assert.True(received.Count == 0, $"a frame without TLS got through: step {received.FirstOrDefault()?.Step}");

        // The other way round: a TLS node cannot be fooled into talking to a plain listener either.
        Assert.False(sender.TrySend(plain.Endpoint, BulkMessage.Of(gradients, 5), out failure));
    }

    /// <summary>Whether the peer closes <paramref name="stream"/> before a read times out; what it sends first (a TLS alert) is read past.</summary>
    private static bool ReadsToEnd(Stream stream)
    {
        var buffer = new byte[4096];
        try
        {
            while (stream.Read(buffer) > 0) { }
            return true;
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset }) { return true; }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut }) { return false; }
    }

    /// <summary>
    /// What anyone on the path between two nodes sees: with TLS, no part of a frame's values is on the wire in the clear
    /// (without TLS it is: the check can fail), and frame after frame arrives bit for bit through the sealed records.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_put_no_values_on_the_wire_in_the_clear_with_TLS(bool tls)
    {
        ClusterCertificates.Create(At("ours"), ["coordinator", "worker"], TimeSpan.FromDays(30));
        var received = new BlockingCollection<BulkMessage>();
        var settings = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, Tls: tls ? Node("ours", "coordinator") : null);
        using var receiver = settings.Open(1_000_000, received.Add, _ => { });
        using var sender = (settings with { Tls = tls ? Node("ours", "worker") : null }).Open(1_000_000, _ => { }, _ => { });
        using var tap = new WireTap(receiver.Endpoint);

        var gradients = new ShardGradients(3, 2, 1, 8, 4.5, Enumerable.Range(0, 600_000).Select(i => MathF.Sin(i)).ToArray());  // 2.4 MB: many records
        for (int frame = 0; frame < 3; frame++)
        {
            Assert.True(sender.TrySend(tap.Endpoint, BulkMessage.Of(gradients, 5), out var failure), failure);
            Assert.True(received.TryTake(out var arrived, Wait), $"frame {frame} did not arrive");
            Assert.Equal(gradients.GradientSum.Select(BitConverter.SingleToInt32Bits), arrived!.Values.Select(BitConverter.SingleToInt32Bits));
        }
        var wire = tap.Sent;
        var values = System.Runtime.InteropServices.MemoryMarshal.AsBytes(gradients.GradientSum.AsSpan()).ToArray();
        // Each frame: its header, its values; with TLS each of these in records of 256 KiB with 20 bytes of their own,
        // after one handshake (a few KB; TLS's own records would add 22 bytes per 16 KiB: 9.7 KB for the three frames).
        const int header = BulkFrame.Header;
        long records = 1 + (values.Length + SealedRecordStream.MaxRecord - 1) / SealedRecordStream.MaxRecord;
        long frames = 3 * (header + values.Length + (tls ? records * 20 : 0));
        if (tls) Assert.InRange(wire.Length - frames, 1, 8192);
        else Assert.Equal(frames, wire.Length);
        var inTheClear = new[] { 0, values.Length / 2, values.Length - 64 }.Where(at => wire.AsSpan().IndexOf(values.AsSpan(at, 64)) >= 0).ToList();
        Assert.True(inTheClear.Count == (tls ? 0 : 3), $"values at byte offsets {string.Join(", ", inTheClear)} are on the wire in the clear");
    }

    /// <summary>
    /// A record altered on its way (one bit, inside the first frame's values) is never delivered: the listener closes that
    /// connection and says so, and goes on serving — the sender's next frames, on a new connection, arrive bit for bit.
    /// </summary>
    [Fact]
    public void Should_deliver_nothing_altered_on_the_way_and_keep_serving()
    {
        ClusterCertificates.Create(At("ours"), ["coordinator", "worker"], TimeSpan.FromDays(30));
        var received = new BlockingCollection<BulkMessage>();
        var warnings = new ConcurrentQueue<string>();
        var ours = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, Tls: Node("ours", "coordinator"));
        using var receiver = ours.Open(1_000_000, received.Add, warnings.Enqueue);
        using var sender = (ours with { Tls = Node("ours", "worker") }).Open(1_000_000, _ => { }, _ => { });
        using var tap = new WireTap(receiver.Endpoint, flipByteAt: 100_000);  // past the handshake, inside the first frame's values

        var gradients = new ShardGradients(3, 2, 1, 8, 4.5, Enumerable.Range(0, 600_000).Select(i => MathF.Sin(i)).ToArray());
        var delivered = new List<BulkMessage>();
        for (var until = DateTime.UtcNow + Wait; delivered.Count == 0 && DateTime.UtcNow < until;)
        {
            sender.TrySend(tap.Endpoint, BulkMessage.Of(gradients, 5), out _);  // the first may fail, or be retried on a new connection
            while (received.TryTake(out var frame, TimeSpan.FromMilliseconds(500))) delivered.Add(frame);
        }
        Assert.NotEmpty(delivered);
        Assert.All(delivered, frame => Assert.Equal(gradients.GradientSum.Select(BitConverter.SingleToInt32Bits), frame.Values.Select(BitConverter.SingleToInt32Bits)));
        Assert.Contains(warnings, w => w.Contains("closed a connection") && w.Contains("failed to open"));
    }

    /// <summary>A listener of a build that sent frames as TLS records answers the handshake with another byte: the sender names that.</summary>
    [Fact]
    public async Task Should_name_a_listener_of_another_build()
    {
        ClusterCertificates.Create(At("ours"), ["coordinator", "worker"], TimeSpan.FromDays(30));
        using var other = Node("ours", "coordinator");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            using var connection = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(connection.GetStream());
            await tls.AuthenticateAsServerAsync(other.ServerOptions(_ => { }));
            await tls.WriteAsync(new byte[] { 0xAC });  // what builds before the sealed records wrote
            await tls.FlushAsync();
            await Task.Delay(Wait);
        });
        using var sender = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, Tls: Node("ours", "worker")).Open(1000, _ => { }, _ => { });

        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Assert.False(sender.TrySend($"127.0.0.1:{port}", BulkMessage.Of(new ShardGradients(3, 2, 1, 8, 4.5, new float[1000]), 5), out var failure));
        Assert.Contains("runs another DistClip build", failure);
        Assert.False(serving.IsFaulted, serving.Exception?.Message);
    }

    /// <summary>
    /// Under TLS 1.3 a client's handshake ends before the server has checked the client's certificate: the listener says
    /// that it accepted it, so a sender it refuses (here: one whose certificate expired after it was loaded) learns it when
    /// it connects and can fall back, instead of writing a frame into a connection about to close. A TLS client that
    /// presents no certificate at all is refused.
    /// </summary>
    [Fact]
    public async Task Should_tell_a_refused_sender_when_it_connects_and_refuse_a_client_without_a_certificate()
    {
        ClusterCertificates.Create(At("ours"), ["coordinator"], TimeSpan.FromDays(30));
        ClusterCertificates.Create(At("ours"), ["expiring"], TimeSpan.FromSeconds(3));
        var received = new BlockingCollection<BulkMessage>();
        var ours = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, Tls: Node("ours", "coordinator"));
        using var receiver = ours.Open(1000, received.Add, _ => { });
        using var expiring = Node("ours", "expiring");
        using var sender = (ours with { Tls = expiring }).Open(1000, _ => { }, _ => { });
        var expired = expiring.Certificate.NotAfter.ToUniversalTime().AddSeconds(1.5) - DateTime.UtcNow;
        if (expired > TimeSpan.Zero) Thread.Sleep(expired);

        var gradients = new ShardGradients(3, 2, 1, 8, 4.5, new float[1000]);
        Assert.False(sender.TrySend(receiver.Endpoint, BulkMessage.Of(gradients, 5), out var failure), "a sender whose certificate was refused was not told");
        Assert.Contains("did not accept this node's certificate", failure);
        // A sentinel from a node the listener accepts must be the first frame it delivers: nothing of the refused one came first.
        using (var accepted = ours.Open(1000, _ => { }, _ => { }))
            Assert.True(accepted.TrySend(receiver.Endpoint, BulkMessage.Of(gradients with { Step = 99 }, 5), out failure), failure);
        Assert.True(received.TryTake(out var first, Wait), "the sentinel frame did not arrive");
        Assert.True(first!.Step == 99, $"a frame of step {first.Step} came before the sentinel");

        Assert.True(await CertificatelessClient.IsRefusedAsync(int.Parse(receiver.Endpoint.Split(':')[1]), Wait), "a TLS client without a certificate got in");
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest(subject, key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
