// Throughput of raw TCP on loopback and of DistClip's chunked gradient exchange through real Akka remoting.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using DistClip.Protocol;
using DistClip.Exchange.Bulk;
using DistClip.Exchange;
using DistClip.Exchange.Chunks;
using DistClip.Exchange.Tls;

namespace DistClip.Cli.Bench;

/// <summary>
/// Two measurements between this process and a child process of the same executable:
/// (a) raw TCP — bytes written as fast as a socket takes them to a child that discards them;
/// (b) DistClip's exchange — a <see cref="ShardGradients"/> of N floats sent to the child and a
/// <see cref="ParameterUpdate"/> of N floats sent back (worker → coordinator → worker), once over the
/// bulk channel the cluster uses, once as DistClip-serialized chunks over Akka.Remote (the fallback).
/// </summary>
public static class NetworkBenchmark
{
    public const string SystemName = "distclip-bench";

    /// <summary>GB/s (10^9 bytes) of raw TCP to a child discarding on <paramref name="port"/>.</summary>
    public static async Task<double> RawTcpAsync(int port, long bytes)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        var clock = Stopwatch.StartNew();
        for (long sent = 0; sent < bytes; sent += buffer.Length) await stream.WriteAsync(buffer);
        client.Client.Shutdown(SocketShutdown.Send);
        await stream.ReadExactlyAsync(new byte[1]);  // the sink's acknowledgement: everything arrived
        return bytes / clock.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>The child's side of <see cref="RawTcpAsync"/>: read one connection to its end, acknowledge.</summary>
    public static async Task ServeSinkAsync(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        using var connection = await listener.AcceptTcpClientAsync();
        var stream = connection.GetStream();
        var buffer = new byte[1 << 20];
        while (await stream.ReadAsync(buffer) > 0) { }
        await stream.WriteAsync(new byte[] { 1 });
    }

    private static Config RemoteConfig(int port) => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = {{port}} }
        """).WithFallback(ConfigurationFactory.ParseString(AkkaDefaults.Hocon));

    /// <summary>
    /// The child's side of the exchange, until killed: an echo actor at <c>/user/echo</c> on
    /// <paramref name="port"/>, and bulk channels that answer each gradient frame with a parameter frame of the same
    /// values to the loopback port named by the frame's token (a benchmark's use of it: frames no longer name their sender):
    /// plain TCP on <paramref name="port"/> + 1, mutual TLS with the certificates in <paramref name="tlsDirectory"/> on
    /// <paramref name="port"/> + 2.
    /// </summary>
    public static async Task ServeEchoAsync(int port, string? tlsDirectory)
    {
        using var system = ActorSystem.Create(SystemName, RemoteConfig(port));
        system.ActorOf(Props.Create(() => new Echo()), "echo");
        using var plain = EchoChannel(new ExchangeSettings("127.0.0.1", "127.0.0.1", port + 1));
        using var tls = tlsDirectory is null ? null : EchoChannel(new ExchangeSettings("127.0.0.1", "127.0.0.1", port + 2, Tls: ClusterTls.Load(tlsDirectory, "--tls")));
        await system.WhenTerminated;
    }

    private static BulkChannel EchoChannel(ExchangeSettings settings)
    {
        BulkChannel? channel = null;
        return channel = settings.Open(int.MaxValue / sizeof(float),
            m =>
            {
                channel!.Send($"127.0.0.1:{m.Token}", BulkMessage.Of(m.AsParameters(), m.Token));
                channel.Buffers.Return(m.Values);  // written out: the next frame may be read into it
            }, Console.Error.WriteLine);
    }

    /// <summary>
    /// Round trips over the bulk channel to the echo's port + 1, or with <paramref name="tls"/> over mutual TLS to its
    /// port + 2, answered on this channel's port (the frames' token); GB/s counting both directions.
    /// </summary>
    public static async Task<double[]> BulkExchangeAsync(int echoPort, int elements, int repetitions, ClusterTls? tls = null)
    {
        TaskCompletionSource<float[]>? pending = null;
        int echoChannelPort = echoPort + (tls is null ? 1 : 2);
        using var channel = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, Tls: tls).Open(elements, m => pending!.TrySetResult(m.Values), Console.Error.WriteLine);
        long replyPort = int.Parse(channel.Endpoint.Split(':')[1], CultureInfo.InvariantCulture);
        var gradient = new float[elements];
        for (int i = 0; i < elements; i++) gradient[i] = i * 1e-7f;
        var results = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            pending = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = Stopwatch.StartNew();
            channel.Send($"127.0.0.1:{echoChannelPort}", BulkMessage.Of(new ShardGradients(r, r, 0, 1, 0, gradient), token: replyPort));
            var back = await pending.Task.WaitAsync(TimeSpan.FromMinutes(5));
            results[r] = 2.0 * elements * sizeof(float) / clock.Elapsed.TotalSeconds / 1e9;
            if (back.Length != elements || back[^1] != gradient[^1]) throw new InvalidDataException("The echo returned other values than were sent.");
            channel.Buffers.Return(back);
        }
        return results;
    }

    /// <summary>Round trips of <paramref name="elements"/> floats; returns GB/s counting both directions.</summary>
    public static async Task<double[]> ExchangeAsync(int echoPort, int elements, int repetitions)
    {
        using var system = ActorSystem.Create(SystemName, RemoteConfig(0));
        var echo = await system.ActorSelection($"akka.tcp://{SystemName}@127.0.0.1:{echoPort}/user/echo").ResolveOne(TimeSpan.FromSeconds(30));
        var gradient = new float[elements];
        for (int i = 0; i < elements; i++) gradient[i] = i * 1e-7f;
        var results = new double[repetitions];
        for (int r = 0; r < repetitions; r++)
        {
            var done = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            var client = system.ActorOf(Props.Create(() => new ExchangeClient(done, elements)));
            var clock = Stopwatch.StartNew();
            Chunking.Send(echo, new ShardGradients(r, r, 0, 1, 0, gradient), client);
            var back = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            results[r] = 2.0 * elements * sizeof(float) / clock.Elapsed.TotalSeconds / 1e9;
            if (back.Length != elements || back[^1] != gradient[^1]) throw new InvalidDataException("The echo returned other values than were sent.");
            system.Stop(client);
        }
        await system.Terminate();
        return results;
    }

    /// <summary>Reassembles a gradient and sends it back as parameters, both chunked.</summary>
    private sealed class Echo : ReceiveActor
    {
        // The benchmark sends transfers of several sizes: one assembler per size (a coordinator has one, of its model's).
        private readonly Dictionary<int, ChunkAssembler<(IActorRef, long)>> _bySize = [];

        public Echo() => Receive<GradientChunk>(c =>
        {
            if (!_bySize.TryGetValue(c.ElementCount, out var chunks)) _bySize[c.ElementCount] = chunks = new(c.ElementCount);
            var values = chunks.Add((Sender, c.Step), c.ElementCount, c.ChunkCount, c.Offset, c.Data, out _);
            if (values is not null) Chunking.Send(Sender, new ParameterUpdate(c.Version, values), Self);
        });
    }

    private sealed class ExchangeClient : ReceiveActor
    {
        private readonly ChunkAssembler<long> _chunks;

        public ExchangeClient(TaskCompletionSource<float[]> done, int elements)
        {
            _chunks = new(elements);
            Receive<ParameterChunk>(c =>
            {
                if (_chunks.Add(c.Version, c.ElementCount, c.ChunkCount, c.Offset, c.Data, out _) is { } values) done.TrySetResult(values);
            });
        }
    }
}
