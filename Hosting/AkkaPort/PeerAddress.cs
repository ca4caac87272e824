// A peer's IP address as DistClip says it: how Akka.Remote and DotNetty write it, normalised.
using System.Net;

namespace DistClip.Hosting.AkkaPort;

internal static class PeerAddress
{
    /// <summary>
    /// <paramref name="host"/> (an IP address, possibly in brackets) as it is usually written: a dual-stack socket names an
    /// IPv4 peer <c>[::ffff:a.b.c.d]</c>, which is said, and counted, as <c>a.b.c.d</c>. Anything else is returned as it is.
    /// </summary>
    public static string Of(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var ip) ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString() : host;
}
