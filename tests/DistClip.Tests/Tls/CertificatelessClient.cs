// A TLS client that presents no certificate: what a stranger who can reach a node's port, but holds no key of the cluster, gets.
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace DistClip.Tests.Tls;

public static class CertificatelessClient
{
    /// <summary>
    /// Connects to <paramref name="port"/> on loopback with TLS, trusting any server certificate and presenting none, and
    /// waits up to <paramref name="wait"/> for the node's first byte. True when the node refused it (the handshake failed, or
    /// the connection was closed or reset); false when the node let it through: it answered, or kept the connection open
    /// in silence, as Akka.Remote does for a peer it has accepted until that peer speaks.
    /// </summary>
    public static async Task<bool> IsRefusedAsync(int port, TimeSpan wait)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "distclip" }, timeout.Token);
            return await tls.ReadAsync(new byte[1], timeout.Token) == 0;
        }
        catch (OperationCanceledException) { return false; }
        catch (Exception e) when (e is AuthenticationException or IOException) { return true; }
    }
}
