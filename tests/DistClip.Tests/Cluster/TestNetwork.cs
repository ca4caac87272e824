// Test hosts on one machine: network namespaces joined by veth pairs to a bridge, each with its own address.

namespace DistClip.Tests.Cluster;

/// <summary>
/// Creates <c>hosts</c> network namespaces, each with one address in 10.77.&lt;n&gt;.0/24, joined to a
/// bridge that lives in a namespace of its own; removes all of it on dispose. Needs root (CI has it).
/// Traffic stays inside these namespaces.
/// </summary>
public sealed class TestNetwork : IDisposable
{
    private readonly string _id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next()))[..6].ToLowerInvariant();
    private readonly List<string> _namespaces = [];

    /// <summary>Namespace name and address of each host.</summary>
    public IReadOnlyList<(string Namespace, string Address)> Hosts { get; }

    public TestNetwork(int hosts)
    {
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
            throw new InvalidOperationException("The multi-host test needs root to create network namespaces (ip netns).");
        int subnet = 10 + Random.Shared.Next(200);
        string hub = $"dch{_id}";
        Ip($"netns add {hub}");
        _namespaces.Add(hub);
        Ip($"-n {hub} link add br0 type bridge");
        Ip($"-n {hub} link set br0 up");
        var list = new List<(string, string)>();
        for (int h = 0; h < hosts; h++)
        {
            string ns = $"dc{h}{_id}", address = $"10.77.{subnet}.{h + 1}";
            Ip($"netns add {ns}");
            _namespaces.Add(ns);
            Ip($"link add v{h}{_id} type veth peer name p{h}{_id}");
            Ip($"link set v{h}{_id} netns {ns}");
            Ip($"link set p{h}{_id} netns {hub}");
            Ip($"-n {hub} link set p{h}{_id} master br0");
            Ip($"-n {hub} link set p{h}{_id} up");
            Ip($"-n {ns} addr add {address}/24 dev v{h}{_id}");
            Ip($"-n {ns} link set v{h}{_id} up");
            Ip($"-n {ns} link set lo up");
            list.Add((ns, address));
        }
        Hosts = list;
    }

    /// <summary>Cuts host <paramref name="host"/> off the network (its bridge port goes down), or joins it again.</summary>
    public void SetConnected(int host, bool connected) => Ip($"-n dch{_id} link set p{host}{_id} {(connected ? "up" : "down")}");

    private static void Ip(string arguments) => SystemCommand.Run("ip", arguments);

    public void Dispose()
    {
        foreach (var ns in _namespaces)
        {
            try { Ip($"netns delete {ns}"); } catch (InvalidOperationException) { /* already gone */ }
        }
    }
}
