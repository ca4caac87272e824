// A node's Akka port: connections from one address are capped, counted out when they close, and other addresses get in.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
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
            await Until(() => first.Count(IsClosedByNode) == 6, "6 of 10 connections from one address closed by the node");
            Assert.Equal(4, cap.OpenFrom(Stranger));
            await Task.Delay(500);
            Assert.Equal(6, first.Count(IsClosedByNode));   // and the 4 admitted stay open
            var said = Assert.Single(_said);
            Assert.Contains($"refused a connection to the Akka port from {Stranger}: that address holds 4 open already", said);

            // Another address is not held back by the stranger's.
            var neighbour = await ConnectAsync("127.0.0.1", port);
            await Until(() => cap.OpenFrom("127.0.0.1") == 1, "a connection from 127.0.0.1 admitted");
            Assert.False(IsClosedByNode(neighbour));

            // Two of the stranger's admitted connections close: two new ones are admitted, a third is refused.
            foreach (var open in first.Where(c => !IsClosedByNode(c)).Take(2)) open.Close();
            await Until(() => cap.OpenFrom(Stranger) == 2, "the two closed connections counted out");
            var second = new List<TcpClient>();
            for (int i = 0; i < 3; i++) second.Add(await ConnectAsync(Stranger, port));
            await Until(() => second.Count(IsClosedByNode) == 1, "the third new connection closed by the node");
            Assert.Equal(4, cap.OpenFrom(Stranger));
            Assert.Single(_said);   // once a minute per address
        }
        finally
        {
            await system.Terminate().WaitAsync(Wait);
        }
    }

    private async Task<TcpClient> ConnectAsync(string from, int port)
    {
        var client = new TcpClient();
        _clients.Add(client);
        client.Client.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await client.ConnectAsync(IPAddress.Loopback, port);
        return client;
    }

    /// <summary>Whether the node closed the connection: it is readable and has nothing to read (the node's end sent FIN or reset).</summary>
    private static bool IsClosedByNode(TcpClient client)
    {
        try { return client.Client.Poll(0, SelectMode.SelectRead) && client.Client.Available == 0; }
        catch (ObjectDisposedException) { return false; }
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {Wait.TotalSeconds} s: {what}");
            await Task.Delay(50);
        }
    }
}
