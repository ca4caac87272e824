// A node's Akka port: connections from one address are capped, counted out when they close, and other addresses get in.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using DistClip.Exchange;
using DistClip.Exchange.Tls;
using DistClip.Hosting;
using DistClip.Hosting.AkkaPort;
using Xunit;

namespace DistClip.Tests.Cluster;

/// <summary>
/// A real node (<see cref="ClusterNode.Start"/>, the coordinator's and the workers' start), plaintext and with mutual TLS,
/// and real TCP connections to its Akka port from 127.0.0.2 that send nothing, as a stranger holding connections would.
/// </summary>
public sealed class AkkaPortSpecs : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private const string Stranger = "127.0.0.2";
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-akka-port-").FullName;
    private readonly ConcurrentQueue<string> _said = new();
    private readonly List<TcpClient> _clients = [];

    public void Dispose()
    {
        foreach (var client in _clients) client.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_close_connections_past_the_cap_of_their_address_and_admit_again_when_some_close(bool tls)
    {
        int port = LoopbackPorts.Free();
        string? certificates = null;
        if (tls) certificates = ClusterCertificates.Create(Path.Combine(_dir, "certs"), ["node"], TimeSpan.FromDays(1)).Single();
        var node = NodeSettings.Resolve("coordinator", "127.0.0.1", null, port, null, environment: _ => null, tlsDirectory: certificates);
        var cap = new InboundConnectionCap(4);
        using var system = ClusterNode.Start(node, refusals: new RefusalNotices(_said.Enqueue), cap: cap);
        try
        {
            var first = new List<TcpClient>();
            for (int i = 0; i < 10; i++) first.Add(await ConnectAsync(Stranger, port));
            await Until(() => first.Count(LoopbackPorts.IsClosedByPeer) == 6, "6 of 10 connections from one address closed by the node");
            Assert.Equal(4, cap.OpenFrom(Stranger));
            // The 4 admitted stay open: an 11th is refused, and connections are accepted in order, so once it is closed
            // every earlier one has been decided.
            var sentinel = await ConnectAsync(Stranger, port);
            await Until(() => LoopbackPorts.IsClosedByPeer(sentinel), "an 11th connection closed by the node");
            Assert.Equal(6, first.Count(LoopbackPorts.IsClosedByPeer));
            // Closed on their sockets at once, not through Akka's close, which would hold each (and up to a frame of it) 2 s more.
            foreach (var refused in first.Where(LoopbackPorts.IsClosedByPeer))
                Assert.True(await LoopbackPorts.RefusesWritesAsync(refused, TimeSpan.FromSeconds(1)), "a refused connection still takes writes: only half-closed");
            var said = Assert.Single(_said);
            Assert.Contains($"refused a connection to the Akka port from {Stranger}: that address holds 4 open already", said);

            // Another address is not held back by the stranger's.
            var neighbour = await ConnectAsync("127.0.0.1", port);
            await Until(() => cap.OpenFrom("127.0.0.1") == 1, "a connection from 127.0.0.1 admitted");
            Assert.False(LoopbackPorts.IsClosedByPeer(neighbour));

            // Two of the stranger's admitted connections close: two new ones are admitted, a third is refused.
            var admitted = first.Where(c => !LoopbackPorts.IsClosedByPeer(c)).ToList();
            foreach (var open in admitted.Take(2)) open.Close();
            await Until(() => cap.OpenFrom(Stranger) == 2, "the two closed connections counted out");
            var second = new List<TcpClient>();
            for (int i = 0; i < 3; i++) second.Add(await ConnectAsync(Stranger, port));
            await Until(() => second.Count(LoopbackPorts.IsClosedByPeer) == 1, "the third new connection closed by the node");
            Assert.Equal(4, cap.OpenFrom(Stranger));
            Assert.Single(_said);   // once a minute per address
            // Every close seen was the cap's, not Akka's handshake timeout (15 s), which closes admitted connections too:
            // the admitted ones are open still.
            var stillAdmitted = admitted.Skip(2).Concat(second.Where(c => !LoopbackPorts.IsClosedByPeer(c))).ToList();
            Assert.Equal(4, stillAdmitted.Count);
            Assert.All(stillAdmitted.Append(neighbour), c => Assert.False(LoopbackPorts.IsClosedByPeer(c), "an admitted connection was closed: Akka's handshake timeout passed before the test ended"));
        }
        finally
        {
            await system.Terminate().WaitAsync(Wait);
        }
    }

    /// <summary>
    /// Connections that never finish Akka's handshake are closed by the node itself after its handshake timeout (15 s) and
    /// Akka's close (up to 2 s more): they are counted out once their socket is closed, not when the close begins, and said.
    /// </summary>
    [Fact]
    public async Task Should_count_out_connections_that_the_node_closes_itself()
    {
        int port = LoopbackPorts.Free();
        var node = NodeSettings.Resolve("coordinator", "127.0.0.1", null, port, null, environment: _ => null);
        var cap = new InboundConnectionCap(4);
        using var system = ClusterNode.Start(node, refusals: new RefusalNotices(_said.Enqueue), cap: cap);
        try
        {
            var silent = new List<TcpClient>();
            for (int i = 0; i < 2; i++) silent.Add(await ConnectAsync("127.0.0.3", port));
            await Until(() => cap.OpenFrom("127.0.0.3") == 2, "two connections counted");
            await Until(() => silent.All(LoopbackPorts.IsClosedByPeer), "the node began to close both after its handshake timeout", TimeSpan.FromSeconds(40));
            Assert.Equal(2, cap.OpenFrom("127.0.0.3"));   // Akka's close shuts the sending side first and the socket 2 s later
            Assert.False(await LoopbackPorts.RefusesWritesAsync(silent[0], TimeSpan.FromMilliseconds(500)), "Akka's close took no writes: it closed the socket at once");
            await Until(() => cap.OpenFrom("127.0.0.3") == 0, "both counted out once their sockets closed");
            await Until(() => !_said.IsEmpty, "the handshake timeout said");
            Assert.Equal("refused a connection to the Akka port from 127.0.0.3: it did not finish Akka's handshake in time", Assert.Single(_said));
        }
        finally
        {
            await system.Terminate().WaitAsync(Wait);
        }
    }

    [Fact]
    public void Should_count_connections_per_address_up_to_the_cap()
    {
        var cap = new InboundConnectionCap(2);
        Assert.True(cap.TryOpen("10.0.0.1"));
        Assert.True(cap.TryOpen("10.0.0.1"));
        Assert.False(cap.TryOpen("10.0.0.1"));
        Assert.True(cap.TryOpen("10.0.0.2"));
        Assert.True(cap.Close("10.0.0.1"));
        Assert.True(cap.TryOpen("10.0.0.1"));
        Assert.Equal(2, cap.OpenFrom("10.0.0.1"));
        Assert.False(cap.Close("10.0.0.9"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InboundConnectionCap(0));
    }

    /// <summary>Once a minute per address and kind: one kind of refusal does not hide another of the same host.</summary>
    [Fact]
    public void Should_say_each_address_once_a_minute_for_each_kind_of_refusal()
    {
        var clock = new ManualClock();
        var notices = new RefusalNotices(_said.Enqueue, clock);
        notices.Refused("127.0.0.1", "junk", kind: "stranger");
        notices.Refused("127.0.0.1", "a certificate of another CA", kind: "certificate");
        notices.Refused("127.0.0.1", "junk again", kind: "stranger");
        Assert.Equal(["junk", "a certificate of another CA"], _said);
        clock.Now += RefusalNotices.Interval;
        notices.Refused("127.0.0.1", "junk later", kind: "stranger");
        Assert.StartsWith("junk later (1 more refusals of 127.0.0.1 since", _said.Last());
    }

    [Theory]
    [InlineData("127.0.0.2", "127.0.0.2")]
    [InlineData("127.0.0.2:4053", "127.0.0.2")]
    [InlineData("[::ffff:127.0.0.2]", "127.0.0.2")]
    [InlineData("[::ffff:127.0.0.2]:37747", "127.0.0.2")]
    [InlineData("::1", "::1")]
    [InlineData("[2001:db8::7]:4053", "2001:db8::7")]
    [InlineData("worker-0.distclip:4053", "worker-0.distclip")]
    public void Should_name_a_peer_by_its_address_alone(string peer, string address) => Assert.Equal(address, RefusalNotices.AddressOf(peer));

    /// <summary>
    /// Akka's errors for an inbound connection that is no Akka peer (broken framing, no TLS, an undecodable message, no
    /// handshake) are dropped and the peer said once a minute; an outbound connection's, and other causes, stay.
    /// </summary>
    [Fact]
    public void Should_drop_the_errors_of_inbound_strangers_and_say_each_once()
    {
        var inbound = new InboundEndpoints();
        inbound.Add("127.0.0.3", 45465);
        var filter = new StrangerNotices(new RefusalNotices(_said.Enqueue), inbound);
        const string channel = "Error caught channel [[::ffff:127.0.0.1]:4053->[::ffff:127.0.0.2]:37747](Id=342556fa)";
        const string protocolActor = "akka://distclip/system/transports/akkaprotocolmanager.tcp.0/akkaProtocol-tcp%3A%2F%2Fdistclip%40%5B%3A%3Affff%3A127.0.0.3%5D%3A45465-2";
        LogFilterDecision Decide(Exception? cause, string source, string message)
        {
            var error = new Akka.Event.Error(cause, source, typeof(object), message);
            return filter.ShouldKeepMessage(error, error.ToString());
        }

        Assert.Equal(LogFilterDecision.Drop, Decide(new DotNetty.Codecs.TooLongFrameException("Adjusted frame length exceeds 1048576: 1073741828 - discarded"), "TcpServerHandler (akka://distclip)", channel));
        Assert.Equal("refused a connection to the Akka port from 127.0.0.2: not Akka's framing (Adjusted frame length exceeds 1048576: 1073741828 - discarded)", Assert.Single(_said));
        Assert.Equal(LogFilterDecision.Drop, Decide(new DotNetty.Handlers.Tls.NotSslRecordException("not an SSL/TLS record"), "TcpServerHandler (akka://distclip)", channel));
        Assert.Single(_said);   // the same address within the minute

        Assert.Equal(LogFilterDecision.Drop, Decide(new InvalidOperationException("outer", new FormatException("bad tag")), protocolActor, "Error while decoding incoming Akka PDU of length 5"));
        Assert.Equal("refused a connection to the Akka port from 127.0.0.3: not Akka's protocol (bad tag)", _said.Last());
        Assert.Equal(LogFilterDecision.Drop, Decide(null, "akka.tcp://distclip@127.0.0.1:4771" + protocolActor["akka://distclip".Length..], "No response from remote for inbound association. Handshake timed out after [15000] ms"));
        Assert.Equal(2, _said.Count);   // 127.0.0.3 again within the minute

        // A connection this node opened (not admitted inbound), outbound framing errors, other causes: Akka's errors stay.
        Assert.Equal(LogFilterDecision.NoDecision, Decide(new InvalidOperationException("outer"), protocolActor.Replace("45465", "4053"), "Error while decoding incoming Akka PDU of length 5"));
        Assert.Equal(LogFilterDecision.NoDecision, Decide(new DotNetty.Codecs.CorruptedFrameException("negative"), "TcpClientHandler (akka://distclip)", channel));
        Assert.Equal(LogFilterDecision.NoDecision, Decide(new DotNetty.Codecs.DecoderException("TLS"), "TcpServerHandler (akka://distclip)", channel));
        Assert.Equal(LogFilterDecision.NoDecision, Decide(null, protocolActor, "Association with remote system has failed"));
        Assert.Equal(2, _said.Count);
    }

    [Fact]
    public void Should_remember_the_latest_inbound_connections_only()
    {
        var inbound = new InboundEndpoints(capacity: 2);
        inbound.Add("10.0.0.1", 40000);
        inbound.Add("10.0.0.1", 40001);
        inbound.Add("10.0.0.1", 40000);   // known: not again
        Assert.True(inbound.Contains("10.0.0.1", 40000));
        inbound.Add("10.0.0.2", 40000);
        Assert.False(inbound.Contains("10.0.0.1", 40000));
        Assert.True(inbound.Contains("10.0.0.1", 40001) && inbound.Contains("10.0.0.2", 40000));
        Assert.False(inbound.Contains("10.0.0.1", 4053));
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private async Task<TcpClient> ConnectAsync(string from, int port)
    {
        var client = new TcpClient();
        _clients.Add(client);
        client.Client.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    private static async Task Until(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? Wait);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {(within ?? Wait).TotalSeconds} s: {what}");
            await Task.Delay(50);
        }
    }
}
