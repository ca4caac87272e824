// Loopback ports for tests: one nothing listens on (for a process to bind, or a connection to be refused), waiting for one to listen, and seeing a connection closed.
using System.Net;
using System.Net.Sockets;

namespace DistClip.Tests;

public static class LoopbackPorts
{
    /// <summary>A port that was free a moment ago: bound, read and released again (a connection to it is refused).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Both ends of a new TCP connection on loopback: the one that connected and the one that accepted.</summary>
    public static async Task<ConnectedPair> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var sender = new TcpClient();
        await sender.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        return new ConnectedPair(sender, await listener.AcceptTcpClientAsync());
    }

    /// <summary>The two ends of a loopback connection; disposing it closes both.</summary>
    public sealed record ConnectedPair(TcpClient Sender, TcpClient Receiver) : IDisposable
    {
        public void Dispose()
        {
            Sender.Dispose();
            Receiver.Dispose();
        }
    }

    /// <summary>Waits until something listens on <paramref name="port"/> (a process started a moment ago binds it), up to <paramref name="timeout"/>.</summary>
    public static async Task WaitForListenerAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try { using var probe = new TcpClient(); await probe.ConnectAsync(IPAddress.Loopback, port); return; }
            catch (SocketException) when (DateTime.UtcNow < deadline) { await Task.Delay(200); }
        }
    }

    /// <summary>
    /// Whether the other end closed the connection: what it sent before is read and dropped, then the connection is readable
    /// with nothing to read (a FIN or a reset came).
    /// </summary>
    public static bool IsClosedByPeer(TcpClient client)
    {
        try
        {
            var socket = client.Client;
            var drop = new byte[4096];
            while (socket.Poll(0, SelectMode.SelectRead))
            {
                if (socket.Available == 0) return true;
                socket.Receive(drop, Math.Min(drop.Length, socket.Available), SocketFlags.None);
            }
            return false;
        }
        catch (SocketException) { return true; }   // reset
        catch (ObjectDisposedException) { return false; }
    }

    /// <summary>
    /// Whether the peer has closed its socket of this connection, not only its sending side: writes to a closed socket fail
    /// within moments (the peer answers the first with a reset), while a peer that only half-closed — as Akka's own close
    /// does, reading and discarding for 2 s before it closes — takes them on. Writes a byte every 50 ms for up to
    /// <paramref name="within"/>.
    /// </summary>
    public static async Task<bool> RefusesWritesAsync(TcpClient client, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < within)
            {
                await client.GetStream().WriteAsync(new byte[1]);
                await Task.Delay(50);
            }
            return false;
        }
        catch (IOException) { return true; }
    }
}
