// A dedicated TCP channel for gradients and parameters, beside Akka.Remote's control plane.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// One actor's end of the bulk data plane: a listener that hands every well-formed frame to
/// <c>deliver</c> (from a background thread: deliver by telling the actor), and cached outgoing
/// connections for sending. Akka.Remote carries everything else; gradients and parameters of a
/// remote peer travel here, because one Akka.Remote connection moves them at about a tenth of raw TCP
/// (docs/BENCHMARKS.md) and would hold up cluster heartbeats behind them. A connection that sends
/// anything else than well-formed frames is closed; the listener keeps serving.
/// </summary>
public sealed class BulkChannel : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Action<BulkMessage> _deliver;
    private readonly Action<string> _warn;
    private readonly int _maxElements;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, TcpClient> _outgoing = new();

    // Large socket buffers keep a multi-megabyte frame streaming instead of stalling on window updates.
    private const int SocketBuffer = 4 << 20;

    /// <summary>
    /// Where arriving frames' values are read into. A receiver that is done with a frame's
    /// <see cref="BulkMessage.Values"/> returns the array here, and the next frame reuses it.
    /// </summary>
    public ReceiveBufferPool Buffers { get; } = new();

    /// <summary>The endpoint peers send to, <c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <param name="bindHost">Address to listen on.</param>
    /// <param name="publicHost">Address peers reach it at (advertised in <see cref="Endpoint"/>).</param>
    /// <param name="port">Port, 0 for any free one.</param>
    /// <param name="maxElements">Largest transfer accepted (the model's parameter count).</param>
    public BulkChannel(string bindHost, string publicHost, int port, int maxElements, Action<BulkMessage> deliver, Action<string> warn)
    {
        (_deliver, _warn, _maxElements) = (deliver, warn, maxElements);
        _listener = new TcpListener(IPAddress.Parse(bindHost), port);
        _listener.Start();
        Endpoint = $"{publicHost}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = AcceptLoopAsync();
    }

    /// <summary>Sends one frame to <paramref name="endpoint"/>, connecting (again) if needed. Blocks until written.</summary>
    public void Send(string endpoint, BulkMessage message)
    {
        for (int attempt = 0; ; attempt++)
        {
            var client = _outgoing.GetOrAdd(endpoint, Connect);
            try
            {
                lock (client) BulkFrame.Write(client.GetStream(), message);
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException && attempt == 0)
            {
                _outgoing.TryRemove(endpoint, out _);  // the peer restarted or dropped the connection: one retry on a fresh one
                client.Dispose();
            }
        }
    }

    /// <summary>
    /// <see cref="Send"/>, reporting a failure (the peer is gone, refuses, or this channel is closing) as
    /// false with its reason instead of an exception, so that a caller falls back on another path.
    /// </summary>
    public bool TrySend(string endpoint, BulkMessage message, out string? failure)
    {
        try
        {
            Send(endpoint, message);
            failure = null;
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or FormatException or ArgumentException)
        {
            failure = e.Message;  // FormatException, ArgumentException: an endpoint that is no host:port
            return false;
        }
    }

    private static TcpClient Connect(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        var client = new TcpClient { NoDelay = true, SendBufferSize = SocketBuffer };
        client.Connect(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return client;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient connection;
            try { connection = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException e) { _warn($"bulk channel: accept failed: {e.Message}"); continue; }
            connection.ReceiveBufferSize = SocketBuffer;
            _ = Task.Run(() => Serve(connection));
        }
    }

    private void Serve(TcpClient connection)
    {
        using (connection)
        {
            try
            {
                var stream = connection.GetStream();
                while (!_stop.IsCancellationRequested && BulkFrame.Read(stream, _maxElements, Buffers) is { } message) _deliver(message);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException or SocketException or ObjectDisposedException)
            {
                if (!_stop.IsCancellationRequested) _warn($"bulk channel: closed a connection from {connection.Client.RemoteEndPoint}: {e.Message}");
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var client in _outgoing.Values) client.Dispose();
        _outgoing.Clear();
    }
}
