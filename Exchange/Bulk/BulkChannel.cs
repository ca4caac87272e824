// A dedicated TCP channel for gradients and parameters, beside Akka.Remote's control plane.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using DistClip.Exchange.Tls;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// One actor's end of the bulk data plane: a listener that hands every well-formed frame to
/// <c>deliver</c> (from a background thread: deliver by telling the actor), and cached outgoing
/// connections for sending. Akka.Remote carries everything else; gradients and parameters of a
/// remote peer travel here, because one Akka.Remote connection moves them at about a tenth of raw TCP
/// (docs/BENCHMARKS.md) and would hold up cluster heartbeats behind them. A connection that sends
/// anything else than well-formed frames is closed; the listener keeps serving. A connection is bound to the token of its
/// first frame: a frame under any other token on it closes it, so a sender can never speak for another on its connection
/// (<see cref="BulkTokens"/>). With <see cref="ClusterTls"/> every
/// connection begins with a mutual TLS handshake: both ends present a certificate of the cluster CA, and a peer without one never gets
/// to send a byte of a frame; its frames then travel as AES-GCM records under a secret the listener sent over that TLS session
/// (<see cref="SealedRecordStream"/>).
/// </summary>
public sealed class BulkChannel : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Action<BulkMessage> _deliver;
    private readonly Action<string> _warn;
    private readonly RefusalNotices _refusals;   // a closed or refused connection: one line per address and minute
    private readonly int _maxElements;
    private readonly Func<long, bool>? _acceptsToken;
    private readonly ClusterTls? _tls;
    private readonly TimeProvider _time;   // the clock of the first-frame deadline and the stall limit
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Connection> _outgoing = new();
    private readonly ConcurrentDictionary<IPAddress, int> _unprovedFrom = new();

    /// <summary>
    /// Connections from one address that have not yet delivered a frame, at most; more are closed at once. A worker
    /// host opens one connection per peer actor and sends a frame on it at once, so only a flood reaches this.
    /// </summary>
    public const int MaxUnprovedConnectionsPerAddress = 64;

    /// <summary>
    /// A connection must finish its TLS handshake (with TLS) and deliver its first frame header this soon, and within a frame
    /// no read may wait longer than this for the next bytes; else it is closed (a peer that connects and waits, or sends half
    /// a frame and stops).
    /// </summary>
    public static readonly TimeSpan FirstFrameDeadline = TimeSpan.FromSeconds(2);

    // Large socket buffers keep a multi-megabyte frame streaming instead of stalling on window updates.
    private const int SocketBuffer = 4 << 20;

    // With TLS the listener writes this byte once it has accepted the sender's certificate, then the connection's secret
    // (SealedRecordStream: frames travel as its records from there on). Under TLS 1.3 a client's handshake completes before
    // the server has checked the client's certificate: without the byte a refused sender would learn it only at its next
    // write, after a frame had vanished into the socket. (0xAC was the byte of builds that sent frames as TLS records.)
    private const byte CertificateAccepted = 0xAD;

    /// <summary>An outgoing connection and the stream frames are written to (its sealed records, with TLS).</summary>
    private sealed record Connection(TcpClient Client, Stream Stream) : IDisposable
    {
        public void Dispose()
        {
            Client.Dispose();  // first, outside the lock: a write blocked on a stalled peer fails at once and lets go of it
            lock (this) Stream.Dispose();  // then the stream, not while a frame's records are being sealed (under the same lock)
        }
    }

    /// <summary>
    /// Where arriving frames' values are read into. A receiver that is done with a frame's
    /// <see cref="BulkMessage.Values"/> returns the array here, and the next frame reuses it.
    /// </summary>
    public ReceiveBufferPool Buffers { get; } = new();

    /// <summary>The endpoint peers send to, <c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <param name="bindHost">Address to listen on.</param>
    /// <param name="publicHost">Address peers reach it at (advertised in <see cref="Endpoint"/>).</param>
    /// <param name="port">Port, 0 for any free one.</param>
    /// <param name="maxElements">Largest transfer accepted (the model's parameter count).</param>
    /// <param name="acceptsToken">Whether a frame's token is accepted, asked from the listener's threads; null accepts any (benchmarks).</param>
    /// <param name="tls">The cluster's certificates: every connection, in and out, begins with a mutual TLS handshake and its frames are
    /// sealed records (<see cref="SealedRecordStream"/>); null: plain TCP.</param>
    /// <param name="time">The clock that <see cref="FirstFrameDeadline"/> and the stall limit are timed on: <see cref="TimeProvider.System"/>
    /// (null), a fake one in tests.</param>
    public BulkChannel(string bindHost, string publicHost, int port, int maxElements, Action<BulkMessage> deliver, Action<string> warn,
        Func<long, bool>? acceptsToken = null, ClusterTls? tls = null, TimeProvider? time = null)
    {
        (_deliver, _warn, _maxElements, _acceptsToken, _tls, _time) = (deliver, warn, maxElements, acceptsToken, tls, time ?? TimeProvider.System);
        _refusals = new RefusalNotices(warn);
        _listener = new TcpListener(IPAddress.Parse(bindHost), port);
        _listener.Start();
        Endpoint = $"{publicHost}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = AcceptLoopAsync();
    }

    /// <summary>Sends one frame to <paramref name="endpoint"/>, connecting (again) if needed. Blocks until written.</summary>
    public void Send(string endpoint, BulkMessage message)
    {
        for (int attempt = 0; ; attempt++)
        {
            var connection = _outgoing.GetOrAdd(endpoint, Connect);
            try
            {
                lock (connection) BulkFrame.Write(connection.Stream, message);
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or AuthenticationException or CryptographicException && attempt == 0)
            {
                _outgoing.TryRemove(endpoint, out _);  // the peer restarted or dropped the connection: one retry on a fresh one
                connection.Dispose();
            }
        }
    }

    /// <summary>
    /// <see cref="Send"/>, reporting a failure (the peer is gone, refuses, or this channel is closing) as
    /// false with its reason instead of an exception, so that a caller falls back on another path.
    /// </summary>
    public bool TrySend(string endpoint, BulkMessage message, out string? failure)
    {
        try
        {
            Send(endpoint, message);
            failure = null;
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or AuthenticationException or CryptographicException or FormatException or ArgumentException)
        {
            failure = e.Message;  // FormatException, ArgumentException: an endpoint that is no host:port
            return false;
        }
    }

    /// <exception cref="AuthenticationException">With TLS: the peer's certificate is not the cluster CA's, or it refused ours.</exception>
    private Connection Connect(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        var client = new TcpClient { NoDelay = true, SendBufferSize = SocketBuffer };
        SslStream? tls = null;
        try
        {
            client.Connect(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            var socket = client.GetStream();
            if (_tls is null) return new Connection(client, socket);
            tls = new SslStream(socket, leaveInnerStreamOpen: false);
            string? refused = null;
            client.ReceiveTimeout = (int)FirstFrameDeadline.TotalMilliseconds * 5;  // a listener that never answers the handshake
            try { tls.AuthenticateAsClient(_tls.ClientOptions(why => refused = why)); }
            catch (AuthenticationException e)
            {
                throw new AuthenticationException(refused is not null ? $"{endpoint} is not of this cluster: {refused}"
                    : $"{endpoint} did not accept this node's certificate, or the TLS handshake failed ({e.Message})", e);
            }
            var secret = new byte[SealedRecordStream.SecretBytes];
            try
            {
                ReadAcceptance(tls, endpoint, secret);
                client.ReceiveTimeout = 0;
                return new Connection(client, SealedRecordStream.ForSending(socket, secret, owned: tls));
            }
            finally { CryptographicOperations.ZeroMemory(secret); }
        }
        catch
        {
            tls?.Dispose();  // its native TLS context
            client.Dispose();
            throw;
        }
    }

    /// <summary>Reads the listener's <see cref="CertificateAccepted"/> and then the connection's secret into <paramref name="secret"/>.</summary>
    /// <exception cref="AuthenticationException">The listener closed the connection instead: it refused this node's certificate.</exception>
    private static void ReadAcceptance(SslStream tls, string endpoint, byte[] secret)
    {
        int accepted;
        try
        {
            accepted = tls.ReadByte();
            if (accepted == CertificateAccepted) tls.ReadExactly(secret);
        }
        catch (Exception e) when (e is IOException or AuthenticationException) { throw new AuthenticationException($"{endpoint} did not accept this node's certificate ({e.Message})", e); }
        if (accepted != CertificateAccepted)
            throw new AuthenticationException(accepted < 0 ? $"{endpoint} did not accept this node's certificate (it closed the connection after the handshake)"
                : $"{endpoint} answered the TLS handshake with {accepted:X2}, not {CertificateAccepted:X2}: it runs another DistClip build");
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient connection;
            try { connection = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException e) { _warn($"bulk channel: accept failed: {e.Message}"); continue; }
            connection.ReceiveBufferSize = SocketBuffer;
            _ = ServeAsync(connection);
        }
    }

    /// <summary>
    /// Reads frames from one connection without holding a thread while it waits; closes it when its address has too
    /// many connections without a frame yet, when its first frame does not arrive within <see cref="FirstFrameDeadline"/>,
    /// at a bad frame, or at a frame under another token than its first's.
    /// </summary>
    private async Task ServeAsync(TcpClient connection)
    {
        var from = connection.Client.RemoteEndPoint as IPEndPoint;
        var address = from?.Address ?? IPAddress.None;
        bool unproved = true;
        string? refused = null;
        long? bound = null;   // the token of the connection's first frame
        bool Accepts(long token) => (bound is null || token == bound) && (_acceptsToken?.Invoke(token) ?? true);
        void Refused(string what) => _refusals.Refused(address.ToString(), $"bulk channel: {what}");
        var socket = connection.GetStream();
        Stream stream = socket;
        using (connection)
        {
            try
            {
                if (_unprovedFrom.AddOrUpdate(address, 1, (_, open) => open + 1) > MaxUnprovedConnectionsPerAddress)
                {
                    Refused($"refused a connection from {from}: {MaxUnprovedConnectionsPerAddress} connections from that address have sent no frame yet");
                    return;
                }
                using (var first = new ClockedCancellation(_stop.Token, _time))
                {
                    first.CancelAfter(FirstFrameDeadline);
                    if (_tls is not null)
                    {
                        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                        stream = tls;
                        await tls.AuthenticateAsServerAsync(_tls.ServerOptions(why => refused = why), first.Token).ConfigureAwait(false);
                        var acceptance = new byte[1 + SealedRecordStream.SecretBytes];
                        try
                        {
                            acceptance[0] = CertificateAccepted;
                            RandomNumberGenerator.Fill(acceptance.AsSpan(1));
                            await tls.WriteAsync(acceptance, first.Token).ConfigureAwait(false);
                            await tls.FlushAsync(first.Token).ConfigureAwait(false);
                            stream = SealedRecordStream.ForReceiving(socket, acceptance.AsSpan(1), owned: tls, FirstFrameDeadline, _stop.Token, time: _time);
                        }
                        finally { CryptographicOperations.ZeroMemory(acceptance); }  // SslStream's own buffers are beyond reach
                    }
                    if (await BulkFrame.ReadAsync(stream, _maxElements, Accepts, Buffers, first.Token, FirstFrameDeadline, _stop.Token, _time).ConfigureAwait(false) is not { } message) return;
                    (unproved, bound, _) = (false, message.Token, _unprovedFrom.AddOrUpdate(address, 0, (_, open) => open - 1));
                    _deliver(message);
                }
                while (!_stop.IsCancellationRequested && await BulkFrame.ReadAsync(stream, _maxElements, Accepts, Buffers, _stop.Token, FirstFrameDeadline, _stop.Token, _time).ConfigureAwait(false) is { } message)
                    _deliver(message);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                Refused($"closed a connection from {from} that sent no frame header, or stalled in a frame, for {FirstFrameDeadline.TotalSeconds:F0} s");
            }
            catch (AuthenticationException e) when (!_stop.IsCancellationRequested)
            {
                Refused($"refused a connection from {from}: not of this cluster ({refused ?? e.Message})");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                if (!_stop.IsCancellationRequested) Refused($"closed a connection from {from}: {e.Message}");
            }
            finally
            {
                if (unproved) _unprovedFrom.AddOrUpdate(address, 0, (_, open) => open - 1);
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var connection in _outgoing.Values) connection.Dispose();
        _outgoing.Clear();
    }
}
