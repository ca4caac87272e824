// A loopback port nothing listens on, for a process to bind or for a connection to be refused.
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
}
