// A node's Akka port: connections from one address are capped, counted out when they close, and other addresses get in.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Akka.Remote.Transport;
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
            await Task.Delay(500);
            Assert.Equal(6, first.Count(LoopbackPorts.IsClosedByPeer));   // and the 4 admitted stay open
            var said = Assert.Single(_said);
            Assert.Contains($"refused a connection to the Akka port from {Stranger}: that address holds 4 open already", said);

            // Another address is not held back by the stranger's.
            var neighbour = await ConnectAsync("127.0.0.1", port);
            await Until(() => cap.OpenFrom("127.0.0.1") == 1, "a connection from 127.0.0.1 admitted");
            Assert.False(LoopbackPorts.IsClosedByPeer(neighbour));

            // Two of the stranger's admitted connections close: two new ones are admitted, a third is refused.
            foreach (var open in first.Where(c => !LoopbackPorts.IsClosedByPeer(c)).Take(2)) open.Close();
            await Until(() => cap.OpenFrom(Stranger) == 2, "the two closed connections counted out");
            var second = new List<TcpClient>();
            for (int i = 0; i < 3; i++) second.Add(await ConnectAsync(Stranger, port));
            await Until(() => second.Count(LoopbackPorts.IsClosedByPeer) == 1, "the third new connection closed by the node");
            Assert.Equal(4, cap.OpenFrom(Stranger));
            Assert.Single(_said);   // once a minute per address
        }
        finally
        {
            await system.Terminate().WaitAsync(Wait);
        }
    }

    /// <summary>
    /// Connections that never finish Akka's handshake are closed by the node itself after its handshake timeout (15 s) and
    /// Akka's close (up to 2 s): they are counted out once their socket is closed, not before.
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
            await Until(() => silent.All(LoopbackPorts.IsClosedByPeer), "the node closed both after its handshake timeout", TimeSpan.FromSeconds(40));
            await Until(() => cap.OpenFrom("127.0.0.3") == 0, "both counted out");
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

    /// <summary>
    /// The count is released once, when the socket is closed: on the transport's Disassociated once Akka registered its
    /// reader (Akka's own close of such a connection takes up to 2 s), at Akka's close when it never registered one.
    /// </summary>
    [Fact]
    public async Task Should_release_a_connection_once_when_its_socket_is_closed()
    {
        var address = new Address("akka.tcp", "distclip", "127.0.0.2", 5000);
        var reader = new Events();

        var socket = new FakeConnection(address);
        int released = 0;
        var counted = new CountedAssociation(socket, () => released++);
        counted.ReadHandlerSource.SetResult(reader);
        counted.Disassociate("test", Akka.Event.NoLogger.Instance);
        Assert.Equal((0, 1), (released, socket.Closes));   // closing, not closed yet
        var transport = await socket.ReadHandlerSource.Task.WaitAsync(Wait);   // the reader the transport's handle was given
        transport.Notify(new Disassociated(DisassociateInfo.Unknown));
        transport.Notify(new Disassociated(DisassociateInfo.Unknown));
        Assert.Equal(1, released);
        Assert.Equal(2, reader.Seen.Count(e => e is Disassociated));   // Akka hears every event

        var unread = new FakeConnection(address);
        int releasedUnread = 0;
        var never = new CountedAssociation(unread, () => releasedUnread++);
        never.Disassociate("test", Akka.Event.NoLogger.Instance);
        never.Disassociate("test", Akka.Event.NoLogger.Instance);
        Assert.Equal((1, 2), (releasedUnread, unread.Closes));
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
    /// Akka's errors for an inbound connection that is no Akka peer (broken framing, an undecodable first message, no
    /// handshake) are dropped and the peer said once a minute; an outbound connection's, and other causes, stay.
    /// </summary>
    [Fact]
    public void Should_drop_the_errors_of_inbound_strangers_and_say_each_once()
    {
        var filter = new StrangerNotices(new RefusalNotices(_said.Enqueue));
        const string channel = "Error caught channel [[::ffff:127.0.0.1]:4053->[::ffff:127.0.0.2]:37747](Id=342556fa)";
        const string protocolActor = "akka://distclip/system/transports/akkaprotocolmanager.tcp.0/akkaProtocol-tcp%3A%2F%2Fdistclip%40%5B%3A%3Affff%3A127.0.0.3%5D%3A45465-2";
        LogFilterDecision Decide(Exception? cause, string source, string message)
        {
            var error = new Akka.Event.Error(cause, source, typeof(object), message);
            return filter.ShouldKeepMessage(error, error.ToString());
        }

        Assert.Equal(LogFilterDecision.Drop, Decide(new DotNetty.Codecs.TooLongFrameException("Adjusted frame length exceeds 1048576: 1073741828 - discarded"), "TcpServerHandler (akka://distclip)", channel));
        Assert.Equal("refused a connection to the Akka port from 127.0.0.2: not Akka's framing (Adjusted frame length exceeds 1048576: 1073741828 - discarded)", Assert.Single(_said));
        Assert.Equal(LogFilterDecision.Drop, Decide(new DotNetty.Codecs.CorruptedFrameException("negative pre-adjustment length field: -61696"), "TcpServerHandler (akka://distclip)", channel));
        Assert.Single(_said);   // the same address within the minute

        Assert.Equal(LogFilterDecision.Drop, Decide(new InvalidOperationException("bad PDU"), protocolActor, "Error while decoding incoming Akka PDU of length 5"));
        Assert.Equal("refused a connection to the Akka port from 127.0.0.3: not Akka's protocol (its first message did not decode)", _said.Last());
        Assert.Equal(LogFilterDecision.Drop, Decide(null, "akka.tcp://distclip@127.0.0.1:4771" + protocolActor["akka://distclip".Length..], "No response from remote for inbound association. Handshake timed out after [15000] ms"));
        Assert.Equal(2, _said.Count);   // 127.0.0.3 again within the minute

        Assert.Equal(LogFilterDecision.NoDecision, Decide(new DotNetty.Codecs.CorruptedFrameException("negative"), "TcpClientHandler (akka://distclip)", channel));
        Assert.Equal(LogFilterDecision.NoDecision, Decide(new DotNetty.Codecs.DecoderException("TLS"), "TcpServerHandler (akka://distclip)", channel));
        Assert.Equal(LogFilterDecision.NoDecision, Decide(null, protocolActor, "Association with remote system has failed"));
        Assert.Equal(2, _said.Count);
    }

    private sealed class Events : IHandleEventListener
    {
        public List<IHandleEvent> Seen { get; } = [];
        public void Notify(IHandleEvent ev) => Seen.Add(ev);
    }

    /// <summary>A transport's handle that counts its closes; its reader is what <see cref="CountedAssociation"/> registers.</summary>
    private sealed class FakeConnection(Address remote) : AssociationHandle(new Address("akka.tcp", "distclip", "127.0.0.1", 4053), remote)
    {
        public int Closes { get; private set; }
        public override bool Write(Google.Protobuf.ByteString payload) => true;
        [Obsolete("Through Disassociate(reason, log).")]
        public override void Disassociate() => Closes++;
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
