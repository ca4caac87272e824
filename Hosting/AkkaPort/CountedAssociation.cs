// One inbound connection to the Akka port, counted until its socket is closed.
using Akka.Remote.Transport;
using Google.Protobuf;

namespace DistClip.Hosting.AkkaPort;

/// <summary>
/// Akka.Remote's handle of an inbound connection, passed through unchanged except that its count is released exactly once,
/// when its socket is closed: once Akka has registered its reader, on the transport's <see cref="Disassociated"/> (the
/// peer left, the socket failed, or Akka's own close finished — which in Akka.Remote 1.5.74 waits up to 2 s, reading);
/// if Akka closes it before it registered a reader (the transport then tells no one), at that close.
/// </summary>
public sealed class CountedAssociation : AssociationHandle
{
    private readonly AssociationHandle _connection;
    private Action? _release;

    public CountedAssociation(AssociationHandle connection, Action release) : base(connection.LocalAddress, connection.RemoteAddress)
    {
        (_connection, _release) = (connection, release);
        // Akka registers its reader on this handle; the transport's handle gets the same reader, watched for the close.
        ReadHandlerSource.Task.ContinueWith(reader => connection.ReadHandlerSource.TrySetResult(new ClosingWatch(reader.Result, Release)),
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public override bool Write(ByteString payload) => _connection.Write(payload);

    [Obsolete("Akka calls it through Disassociate(reason, log).")]
    public override void Disassociate()
    {
        if (!ReadHandlerSource.Task.IsCompletedSuccessfully) Release();
        _connection.Disassociate();
    }

    private void Release() => Interlocked.Exchange(ref _release, null)?.Invoke();

    /// <summary>Passes every event of the connection to Akka's reader, releasing the count when the socket is closed.</summary>
    private sealed class ClosingWatch(IHandleEventListener reader, Action release) : IHandleEventListener
    {
        public void Notify(IHandleEvent ev)
        {
            try { reader.Notify(ev); }
            finally { if (ev is Disassociated) release(); }
        }
    }
}
