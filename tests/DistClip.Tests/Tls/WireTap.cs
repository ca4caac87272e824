// A relay on loopback that records what a sender writes to a listener: what anyone on the path between two nodes sees.
using System.Net;
using System.Net.Sockets;

namespace DistClip.Tests.Tls;

/// <summary>
/// Listens on a loopback port (<see cref="Endpoint"/>) and relays each connection to <c>target</c> both ways, keeping a copy
/// of every byte the connecting side wrote (<see cref="Sent"/>). With <c>flipByteAt</c> it alters the first connection on its
/// way: that byte of what the connecting side wrote arrives with its lowest bit flipped.
/// </summary>
public sealed class WireTap : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly MemoryStream _sent = new();
    private readonly CancellationTokenSource _stop = new();
    private long? _flipByteAt;

    public string Endpoint { get; }

    public WireTap(string target, long? flipByteAt = null)
    {
        _flipByteAt = flipByteAt;
        _listener.Start();
        Endpoint = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        int colon = target.LastIndexOf(':');
        _ = RelayAsync(target[..colon], int.Parse(target[(colon + 1)..]));
    }

    /// <summary>Everything written to the tap so far, by every connection in turn.</summary>
    public byte[] Sent
    {
        get { lock (_sent) return _sent.ToArray(); }
    }

    private async Task RelayAsync(string host, int port)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var from = await _listener.AcceptTcpClientAsync(_stop.Token);
                var to = new TcpClient();
                await to.ConnectAsync(host, port, _stop.Token);
                _ = PumpAsync(from, to, record: true, flipAt: _flipByteAt);
                _flipByteAt = null;
                _ = PumpAsync(to, from, record: false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool record, long? flipAt = null)
    {
        var buffer = new byte[64 << 10];
        long passed = 0;
        try
        {
            for (int n; (n = await from.GetStream().ReadAsync(buffer, _stop.Token)) > 0; passed += n)
            {
                if (record) lock (_sent) _sent.Write(buffer, 0, n);
                if (flipAt >= passed && flipAt < passed + n) buffer[flipAt.Value - passed] ^= 1;
                await to.GetStream().WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException) { }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
