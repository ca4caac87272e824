// Loopback ports for tests: one nothing listens on (for a process to bind, or a connection to be refused), and waiting for one to listen.
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
}
