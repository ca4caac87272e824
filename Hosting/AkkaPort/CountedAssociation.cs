// One inbound connection to the Akka port, counted until it closes, however it closes.
using Akka.Remote.Transport;
using Google.Protobuf;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// Akka.Remote's handle of an inbound connection, passed through unchanged except that its count is released exactly once:
/// when Akka disassociates it (a refused or timed-out handshake, a quarantine, a shutdown) or when the transport reports it
/// closed (the peer left, the socket failed).
/// </summary>
internal sealed class CountedAssociation : AssociationHandle
{
    private readonly AssociationHandle _connection;
    private Action? _release;

    public CountedAssociation(AssociationHandle connection, Action release) : base(connection.LocalAddress, connection.RemoteAddress)
    {
        (_connection, _release) = (connection, release);
        // Akka registers its reader on this handle; the transport's handle gets the same reader, watched for the close.
        ReadHandlerSource.Task.ContinueWith(reader => connection.ReadHandlerSource.TrySetResult(new ClosingWatch(reader.Result, Release)),
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously);
    }

    public override bool Write(ByteString payload) => _connection.Write(payload);

    [Obsolete("Akka calls it through Disassociate(reason, log).")]
    public override void Disassociate()
    {
        Release();
        _connection.Disassociate();
    }

    private void Release() => Interlocked.Exchange(ref _release, null)?.Invoke();

    /// <summary>Passes every event of the connection to Akka's reader, releasing the count when it is closed.</summary>
    private sealed class ClosingWatch(IHandleEventListener reader, Action release) : IHandleEventListener
    {
        public void Notify(IHandleEvent ev)
        {
            if (ev is Disassociated) release();
            reader.Notify(ev);
        }
    }
}
