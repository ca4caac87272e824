// The bulk data plane: frames round-trip between two channels; junk closes a connection, never the channel.
using System.Collections.Concurrent;
using System.Net.Sockets;
using DistClip.Protocol;
using DistClip.Exchange;
using DistClip.Exchange.Bulk;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace DistClip.Tests.Wire;

public sealed class BulkChannelSpecs : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly BlockingCollection<BulkMessage> _received = [];
    private readonly ConcurrentQueue<string> _warnings = new();
    private readonly BulkChannel _receiver, _sender;

    public BulkChannelSpecs()
    {
        var settings = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0);
        _receiver = settings.Open(1000, _received.Add, _warnings.Enqueue);
        _sender = settings.Open(1000, _ => { }, _warnings.Enqueue);
    }

    public void Dispose()
    {
        _receiver.Dispose();
        _sender.Dispose();
    }

    private BulkMessage Next()
    {
        Assert.True(_received.TryTake(out var m, Wait), "no frame arrived");
        return m!;
    }

    [Fact]
    public void Should_deliver_gradients_and_parameters_intact_and_in_order()
    {
        var gradients = new ShardGradients(4, 3, 2, 17, 12.5, Enumerable.Range(0, 1000).Select(i => i * 0.5f - 7).ToArray());
        var parameters = new ParameterUpdate(4, [float.NaN, -0f, 1e-30f]);

        _sender.Send(_receiver.Endpoint, BulkMessage.Of(gradients, 99));
        _sender.Send(_receiver.Endpoint, BulkMessage.Of(parameters, 99));

        var g = Next();
        Assert.Equal((BulkKind.Gradients, 99L), (g.Kind, g.Token));
        Assert.Equal(gradients with { GradientSum = [] }, g.AsGradients() with { GradientSum = [] });
        Assert.Equal(gradients.GradientSum, g.Values);
        var p = Next();
        Assert.Equal(BulkKind.Parameters, p.Kind);
        Assert.Equal(parameters.Values.Select(BitConverter.SingleToInt32Bits), p.Values.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Should_read_the_next_frame_into_a_returned_buffer_and_overwrite_all_of_it()
    {
        _sender.Send(_receiver.Endpoint, BulkMessage.Of(new ParameterUpdate(1, Enumerable.Repeat(1f, 1000).ToArray()), 7));
        var first = Next().Values;
        _receiver.Buffers.Return(first);
        _sender.Send(_receiver.Endpoint, BulkMessage.Of(new ParameterUpdate(2, Enumerable.Range(0, 1000).Select(i => (float)i).ToArray()), 7));
        var second = Next().Values;

        Assert.Same(first, second);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (float)i), second);
        _sender.Send(_receiver.Endpoint, BulkMessage.Of(new ParameterUpdate(3, new float[1000]), 7));
        Assert.NotSame(second, Next().Values);  // not returned: a new array
    }

    /// <summary>
    /// A connection is bound to the token of its first frame: a frame under another token on it — even one the listener
    /// accepts — closes it undelivered, and a token the listener stops accepting (a removed worker) is refused from the header.
    /// That nothing got through is seen by a sentinel: a frame sent on a new connection once the refusal was said must be the
    /// next to arrive (a frame let through would have been delivered before its connection went on to anything else).
    /// </summary>
    [Fact]
    public async Task Should_bind_a_connection_to_its_first_frames_token_and_refuse_tokens_no_longer_accepted()
    {
        var accepted = new ConcurrentDictionary<long, bool>([new(1, true), new(2, true)]);
        using var listener = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0).Open(1000, _received.Add, _warnings.Enqueue, accepted.ContainsKey);
        var frame = new ShardGradients(1, 1, 0, 1, 0, new float[10]);
        void AssertSentinelArrivesNext(long step)
        {
            using var fresh = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0).Open(10, _ => { }, _ => { });
            fresh.Send(listener.Endpoint, BulkMessage.Of(frame with { Step = step }, 1));
            var next = Next();
            Assert.True(next.Step == step, $"a frame of step {next.Step} under token {next.Token} got through before the sentinel");
        }

        _sender.Send(listener.Endpoint, BulkMessage.Of(frame, 1));
        Assert.Equal(1L, Next().Token);
        _sender.Send(listener.Endpoint, BulkMessage.Of(frame with { Step = 2 }, 2));   // accepted by the listener, not on a connection of token 1
        WaitForWarning("not the one its connection is bound to");
        AssertSentinelArrivesNext(100);

        // From an address of its own, so that its refusal is said too (refusals are said once per address and minute).
        int port = int.Parse(listener.Endpoint.Split(':')[1]);
        using var second = From("127.0.0.5");
        await second.ConnectAsync("127.0.0.1", port);
        await second.GetStream().WriteAsync(Framed(BulkMessage.Of(frame with { Step = 3 }, 2)));   // a connection of its own: token 2 is accepted
        var own = Next();
        Assert.Equal((2L, 3L), (own.Token, own.Step));
        accepted.TryRemove(2, out _);
        await second.GetStream().WriteAsync(Framed(BulkMessage.Of(frame with { Step = 4 }, 2)));
        WaitForWarning("127.0.0.5");
        Assert.Contains(_warnings, w => w.Contains("127.0.0.5") && w.Contains("a token this end does not accept"));
        AssertSentinelArrivesNext(101);
    }

    private static byte[] Framed(BulkMessage message)
    {
        var framed = new MemoryStream();
        BulkFrame.Write(framed, message);
        return framed.ToArray();
    }

    private void WaitForWarning(string part)
    {
        for (var deadline = DateTime.UtcNow + Wait; !_warnings.Any(w => w.Contains(part)) && DateTime.UtcNow < deadline;) Thread.Sleep(20);
        Assert.Contains(_warnings, w => w.Contains(part));
    }

    [Fact]
    public void A_buffer_pool_should_hand_out_only_exact_lengths_and_keep_a_bounded_number()
    {
        var pool = new ReceiveBufferPool();
        var kept = Enumerable.Range(0, ReceiveBufferPool.KeptPerLength + 3).Select(_ => new float[10]).ToArray();
        foreach (var b in kept) pool.Return(b);

        Assert.Equal(11, pool.Rent(11).Length);
        var rented = Enumerable.Range(0, ReceiveBufferPool.KeptPerLength + 3).Select(_ => pool.Rent(10)).ToArray();
        Assert.All(rented, b => Assert.Equal(10, b.Length));
        Assert.Equal(ReceiveBufferPool.KeptPerLength, rented.Count(b => kept.Contains(b)));
    }

    [Fact]
    public async Task Should_close_a_connection_that_sends_junk_and_keep_serving()
    {
        int colon = _receiver.Endpoint.LastIndexOf(':');
        int port = int.Parse(_receiver.Endpoint[(colon + 1)..]);
        var junks = new[] { "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a-confused-client/1.0\r\n\r\n"u8.ToArray(), new byte[7], [(byte)'D', (byte)'C', (byte)'B', 9, .. new byte[60]] };
        for (int i = 0; i < junks.Length; i++)
        {
            using var client = From($"127.0.0.{2 + i}");  // each from an address of its own: refusals are said once per address and minute
            var junk = junks[i];
            await client.ConnectAsync("127.0.0.1", port);
            var stream = client.GetStream();
            await stream.WriteAsync(junk);
            client.Client.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false));  // the channel closed it
        }
        // An oversized frame is refused before its payload is allocated (and its connection closed).
        _sender.Send(_receiver.Endpoint, new BulkMessage(BulkKind.Gradients, 1, 0, 0, 0, 0, 0, new float[1001]));
        using var another = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0).Open(10, _ => { }, _ => { });
        another.Send(_receiver.Endpoint, BulkMessage.Of(new ParameterUpdate(1, [1f]), 1));

        Assert.Equal([1f], Next().Values);
        for (var deadline = DateTime.UtcNow + Wait; _warnings.Count < 4 && DateTime.UtcNow < deadline;) await Task.Delay(20);
        Assert.Contains(_warnings, w => w.Contains("bad magic"));
        Assert.Contains(_warnings, w => w.Contains("Truncated"));
        Assert.Contains(_warnings, w => w.Contains("protocol v9"));
        Assert.Contains(_warnings, w => w.Contains("at most 1000"));
        Assert.Empty(_received);
    }

    /// <summary>A client that connects from <paramref name="address"/> (any 127.x.y.z is loopback on Linux).</summary>
    private static TcpClient From(string address)
    {
        var client = new TcpClient();
        client.Client.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(address), 0));
        return client;
    }

    /// <summary>Whether the channel closes <paramref name="client"/>: its read ends or is reset before <paramref name="giveUp"/> (then: no close).</summary>
    private static async Task<bool> ClosedByChannelAsync(TcpClient client, CancellationToken giveUp)
    {
        try { return await client.GetStream().ReadAsync(new byte[1], giveUp) == 0; }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset }) { return true; }
        catch (OperationCanceledException) when (giveUp.IsCancellationRequested) { return false; }
    }

    /// <summary>
    /// A connection that sends nothing is closed once <see cref="BulkChannel.FirstFrameDeadline"/> has passed on the
    /// channel's clock (a fake one, moved by the test), not before: one that sends its first frame a millisecond before
    /// the deadline has it delivered, one that is still silent a millisecond after is closed, and said.
    /// </summary>
    [Fact]
    public async Task Should_close_a_connection_whose_first_frame_has_not_come_by_the_deadline_and_not_before()
    {
        var time = new FakeTimeProvider();
        using var receiver = new BulkChannel("127.0.0.1", "127.0.0.1", 0, 1000, _received.Add, _warnings.Enqueue, time: time);
        int port = int.Parse(receiver.Endpoint.Split(':')[1]);
        using var late = From("127.0.0.3");
        using var silent = From("127.0.0.4");
        await late.ConnectAsync("127.0.0.1", port);
        await silent.ConnectAsync("127.0.0.1", port);
        // Connections are accepted in order, and each one's deadline set as it is: once a later one's frame arrives, both are timed.
        _sender.Send(receiver.Endpoint, BulkMessage.Of(new ParameterUpdate(1, [1f]), 9));
        Assert.Equal(9, Next().Token);

        time.Advance(BulkChannel.FirstFrameDeadline - TimeSpan.FromMilliseconds(1));
        await late.GetStream().WriteAsync(Framed(BulkMessage.Of(new ParameterUpdate(2, [2f]), 3)));
        Assert.Equal(3, Next().Token);   // not closed a millisecond before the deadline
        time.Advance(TimeSpan.FromMilliseconds(2));
        using (var giveUp = new CancellationTokenSource(Wait))
            Assert.True(await ClosedByChannelAsync(silent, giveUp.Token), "a connection that sent nothing is open after the deadline");
        WaitForWarning("127.0.0.4");
        Assert.Contains(_warnings, w => w.Contains("127.0.0.4") && w.Contains("sent no frame header"));
        Assert.DoesNotContain(_warnings, w => w.Contains("127.0.0.3"));
    }

    /// <summary>
    /// 300 connections from one address that send a valid-looking header and then nothing: they hold no thread, those
    /// beyond the per-address cap are closed at once, the rest when their frame has not come within the deadline —
    /// frames from another address keep arriving meanwhile (the channel is not frozen by them), and the flood costs one line.
    /// The channel's clock is a fake one that stands still until the test moves it: a frame that arrives before that got
    /// past the held connections, it did not wait them out.
    /// </summary>
    [Fact]
    public async Task Should_not_be_frozen_by_connections_that_send_half_a_frame_and_wait()
    {
        var time = new FakeTimeProvider();
        using var receiver = new BulkChannel("127.0.0.1", "127.0.0.1", 0, 1000, _received.Add, _warnings.Enqueue, time: time);
        int port = int.Parse(receiver.Endpoint.Split(':')[1]);
        var header = new MemoryStream();
        BulkFrame.Write(header, new BulkMessage(BulkKind.Gradients, 1, 0, 0, 0, 1, 0, new float[1000]));
        var half = header.ToArray()[..60];   // the header and the start of the values, then silence
        var held = new List<TcpClient>();
        for (int i = 0; i < 300; i++)
        {
            var client = From("127.0.0.2");
            await client.ConnectAsync("127.0.0.1", port);
            try { await client.GetStream().WriteAsync(half); } catch (IOException) { }   // a refused one may be closed already
            held.Add(client);
        }

        var gradients = new ShardGradients(4, 3, 2, 17, 12.5, new float[1000]);
        Assert.True(_sender.TrySend(receiver.Endpoint, BulkMessage.Of(gradients, 42), out var failure), failure);   // from 127.0.0.1
        Assert.Equal(4, Next().Step);   // with the clock where it started: before any deadline could pass

        time.Advance(BulkChannel.FirstFrameDeadline);
        using var giveUp = new CancellationTokenSource(Wait);   // one wait for all of them, not one each
        int closed = (await Task.WhenAll(held.Select(c => ClosedByChannelAsync(c, giveUp.Token)))).Count(c => c);
        foreach (var client in held) client.Dispose();
        Assert.Equal(300, closed);
        var said = Assert.Single(_warnings, w => w.Contains("127.0.0.2"));
        Assert.Contains($"{BulkChannel.MaxUnprovedConnectionsPerAddress} connections from that address have sent no frame yet", said);
    }
}
