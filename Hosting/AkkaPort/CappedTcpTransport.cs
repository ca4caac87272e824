// Akka.Remote's TCP transport, with the connections each peer address holds open to this node capped.
using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Akka.Remote.Transport;
using DistClip.Exchange;
using DotNetty.Transport.Channels;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// The transport of every DistClip node's Akka port (<c>akka.remote.dot-netty.tcp.transport-class</c>): Akka.Remote's own
/// DotNetty TCP transport — TLS, framing, addresses all unchanged — with one check in front. A connection from an address
/// that already holds <see cref="InboundConnectionCap.PerAddress"/> open is closed when the transport announces it, before
/// Akka hears of it and before a byte of it is read, and said once a minute per address (<see cref="RefusalNotices"/>).
/// Akka.Remote has no setting for this; without it a stranger could open connections without end, each holding up to a
/// frame (1 MiB) in the frame decoder. Settings come from the actor system's <see cref="AkkaPortSetup"/>; without one,
/// the default cap, refusals to stderr.
/// </summary>
public sealed class CappedTcpTransport : Transport
{
    /// <summary>Akka.Remote's transport and its connection handle, named: both are internal to Akka.Remote.</summary>
    private const string DotNettyTcp = "Akka.Remote.Transport.DotNetty.TcpTransport, Akka.Remote",
        DotNettyHandle = "Akka.Remote.Transport.DotNetty.TcpAssociationHandle, Akka.Remote";

    /// <summary>
    /// The socket under Akka's handle: a refused connection is closed on it, and an admitted one is counted until it closes.
    /// Not through the handle: its close (1.5.74) shuts the sending side, turns reads back on and waits
    /// <c>flush-wait-on-shutdown</c> (2 s) before it closes, reading and discarding meanwhile — for a stranger, up to a frame
    /// held for 2 s per refused connection — and the handle does not say when the socket is closed.
    /// </summary>
    private static readonly FieldInfo SocketOfHandle = Type.GetType(DotNettyHandle, throwOnError: true)!.GetField("_channel", BindingFlags.Instance | BindingFlags.NonPublic)
        is { } field && typeof(IChannel).IsAssignableFrom(field.FieldType)
            ? field : throw new MissingFieldException($"{DotNettyHandle} has no _channel of DotNetty's IChannel: this Akka.Remote is not the one CappedTcpTransport was written for.");

    private readonly Transport _tcp;
    private readonly AkkaPortSetup _setup;

    public CappedTcpTransport(ActorSystem system, Config config)
    {
        (System, Config) = (system, config);
        _tcp = (Transport)Activator.CreateInstance(Type.GetType(DotNettyTcp, throwOnError: true)!, system, config)!;
        _setup = system.Settings.Setup.Get<AkkaPortSetup>().GetOrElse(new AkkaPortSetup(new InboundConnectionCap(), RefusalNotices.ToStandardError()));
    }

    public override string SchemeIdentifier { get => _tcp.SchemeIdentifier; protected set { } }

    public override long MaximumPayloadBytes { get => _tcp.MaximumPayloadBytes; protected set { } }

    public override bool IsResponsibleFor(Address remote) => _tcp.IsResponsibleFor(remote);

    public override Task<AssociationHandle> Associate(Address remoteAddress) => _tcp.Associate(remoteAddress);

    public override Task<bool> Shutdown() => _tcp.Shutdown();

    public override Task<bool> ManagementCommand(object message) => _tcp.ManagementCommand(message);

    /// <summary>Listens through Akka.Remote's transport; Akka's listener, once it is given, hears only the connections admitted.</summary>
    public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
    {
        var (address, tcpListener) = await _tcp.Listen().ConfigureAwait(false);
        var akkaListener = new TaskCompletionSource<IAssociationEventListener>();
        _ = akkaListener.Task.ContinueWith(given =>
            {
                if (given.IsCompletedSuccessfully) tcpListener.TrySetResult(new Admission(given.Result, this));
                else if (given.Exception is { } failure) tcpListener.TrySetException(failure.InnerExceptions);
                else tcpListener.TrySetCanceled();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return (address, akkaListener);
    }

    /// <summary>
    /// Admits a new inbound connection under the cap of its address, counted until its socket is closed (whoever closes it,
    /// however: Akka's own close of a connection ends up to 2 s after it began); refuses it otherwise.
    /// </summary>
    private void Admit(InboundAssociation inbound, IAssociationEventListener akka)
    {
        var connection = inbound.Association;
        var socket = (IChannel)SocketOfHandle.GetValue(connection)!;
        var from = RefusalNotices.AddressOf(connection.RemoteAddress.Host ?? "an unknown address");
        var cap = _setup.Cap;
        if (!cap.TryOpen(from))
        {
            _setup.Refusals.Refused(from, $"refused a connection to the Akka port from {from}: that address holds {cap.PerAddress} open already", kind: "cap");
            // Reads are still off: nothing of it is read. Under TLS its handshake fails as it closes: ClusterNode's log filters quiet that.
            socket.CloseAsync();
            return;
        }
        socket.CloseCompletion.ContinueWith(_ => cap.Close(from), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _setup.Inbound.Add(from, connection.RemoteAddress.Port ?? 0);
        akka.Notify(inbound);
    }

    private sealed class Admission(IAssociationEventListener akka, CappedTcpTransport transport) : IAssociationEventListener
    {
        public void Notify(IAssociationEvent ev)
        {
            if (ev is InboundAssociation inbound) transport.Admit(inbound, akka);
            else akka.Notify(ev);
        }
    }
}
