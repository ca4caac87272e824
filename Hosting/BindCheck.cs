// A node's addresses are checked before Akka starts, so that a bad hostname or a taken port is one line, not a remoting failure.
using System.Net;
using System.Net.Sockets;

namespace DistClip.Hosting;

/// <summary>
/// Resolves the bind hostname and binds (then releases) each port a node will listen on: a name that
/// does not resolve, an address that is not this machine's, or a port another process holds becomes an
/// <see cref="ArgumentException"/> naming the option — before Akka would log a remoting failure and throw.
/// </summary>
public static class BindCheck
{
    /// <param name="actors">Actors of the node with a bulk channel each, on ports BulkPort, BulkPort + 1, ….</param>
    public static void Check(NodeSettings node, int actors = 1)
    {
        var address = Resolve(node.Hostname);
        Bind(address, node.Port, $"--port {node.Port} (or {EnvironmentNames.Port})", node.Hostname);
        if (node.BulkPort == 0) return;
        for (int i = 0; i < actors; i++)
            Bind(address, node.BulkPort + i, $"--bulk-port {node.BulkPort} (or {EnvironmentNames.BulkPort}), port {node.BulkPort + i} of worker {i}", node.Hostname);
    }

    /// <summary>One more port the node listens on, at its <paramref name="hostname"/>: resolved and checked as the others are.</summary>
    /// <param name="option">How the error names the port's option, e.g. <c>--metrics-port 9090 (or DISTCLIP_METRICS_PORT)</c>.</param>
    /// <returns>The address to bind it to.</returns>
    public static IPAddress Check(string hostname, int port, string option)
    {
        var address = Resolve(hostname);
        Bind(address, port, option, hostname);
        return address;
    }

    private static IPAddress Resolve(string hostname)
    {
        // An address is taken as it is: Dns.GetHostAddresses refuses the wildcards 0.0.0.0 and ::, which bind every interface.
        if (IPAddress.TryParse(hostname, out var literal)) return literal;
        try
        {
            var addresses = Dns.GetHostAddresses(hostname);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        }
        catch (Exception e) when (e is SocketException or ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"--hostname '{hostname}' (or {EnvironmentNames.Hostname}) does not resolve to an address ({e.Message.TrimEnd('.')}).");
        }
    }

    private static void Bind(IPAddress address, int port, string option, string hostname)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try { socket.Bind(new IPEndPoint(address, port)); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new ArgumentException($"{option}: {hostname}:{port} is already in use by another process; choose another port.");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new ArgumentException($"--hostname '{hostname}' (or {EnvironmentNames.Hostname}) is {address}, not an address of this machine; give one of its own (0.0.0.0 for all).");
        }
    }
}
