// The bulk channel's record layer under TLS: AES-GCM records of up to 256 KiB, keyed by a secret sent over mutual TLS.
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// A one-way stream of sealed records, for a bulk connection once its mutual TLS handshake is done. The listener draws a
/// fresh <see cref="SecretBytes"/>-byte secret for each connection and sends it to the sender over that TLS session (so only
/// the two authenticated ends know it); from then on frames travel as records of this layer on the bare socket, instead of
/// as TLS's own records, which hold at most 16 KiB each: SslStream encrypts, copies and reads them one at a time, and on two
/// cores that also compute, that cost a TLS run 15–18 % of its steps (docs/DECISIONS.md).
/// <para>
/// A record is its plaintext length (4 bytes, little-endian, 1 to <see cref="MaxRecord"/>), then the AES-128-GCM ciphertext
/// and its 16-byte tag; the length is the associated data, and the nonce is the record's sequence number XOR a secret IV,
/// as in TLS 1.3. A record altered, dropped, replayed, reordered or of another connection fails to open, and the stream
/// then throws <see cref="InvalidDataException"/>. Every <see cref="RecordsPerKey"/> records both ends derive the next key
/// and IV from the secret (HKDF-SHA256, as TLS 1.3's key update), so no key seals more than 4 GiB. What it does not do:
/// hide the records' sizes (neither does TLS), or tell a clean end of the stream from a cut one — a cut inside a frame
/// shows as a short frame, one between frames loses the frames after it, as the connection's loss would.
/// </para>
/// A stream either sends (<see cref="ForSending"/>) or receives (<see cref="ForReceiving"/>), never both: the two directions
/// would share nonces. Not for concurrent use: a bulk connection has one writer (under its lock) or one reader. Each holds
/// one record's buffer (256 KiB) while it is open.
/// </summary>
public sealed class SealedRecordStream : Stream, IKnowsWaitingBytes
{
    /// <summary>Length of the secret the listener draws for a connection.</summary>
    public const int SecretBytes = 32;

    /// <summary>Most plaintext bytes in one record: large enough that AES-GCM runs at full speed (~30 % slower on TLS's 16 KiB).</summary>
    public const int MaxRecord = 256 << 10;

    /// <summary>Records sealed under one key before both ends move to the next.</summary>
    public const long RecordsPerKey = 1 << 14;

    private const int LengthBytes = 4;
    private const int TagBytes = 16;
    private const int KeyBytes = 16;  // AES-128-GCM: TLS 1.3's mandatory cipher; AES-256 is ~7 % slower on this machine's CPU
    private const int NonceBytes = 12;

    private readonly Stream _inner;
    private readonly IDisposable? _owned;
    private readonly bool _sending;
    private readonly TimeSpan _stallLimit;
    private readonly CancellationToken _abort;
    private readonly TimeProvider _time;   // the stall limit's clock
    private readonly long _recordsPerKey;
    private readonly byte[] _secret;
    private readonly byte[] _record = new byte[LengthBytes + MaxRecord + TagBytes];  // one record on the wire
    private readonly byte[] _iv = new byte[NonceBytes];
    private readonly byte[] _nonce = new byte[NonceBytes];
    private AesGcm _cipher;
    private long _sequence;             // records sealed or opened so far
    private byte[]? _plain;             // an opened record that the reader's buffer was too small for …
    private ReadOnlyMemory<byte> _pending;  // … and the part of it not yet read

    private SealedRecordStream(Stream inner, ReadOnlySpan<byte> secret, IDisposable? owned, bool sending, TimeSpan stallLimit, CancellationToken abort, long recordsPerKey,
        TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        if (secret.Length != SecretBytes) throw new ArgumentException($"A bulk connection's secret has {SecretBytes} bytes, not {secret.Length}.", nameof(secret));
        ArgumentOutOfRangeException.ThrowIfLessThan(recordsPerKey, 1);
        (_inner, _owned, _sending, _stallLimit, _abort, _recordsPerKey, _secret) = (inner, owned, sending, stallLimit, abort, recordsPerKey, secret.ToArray());
        _cipher = NextCipher();
    }

    /// <summary>The sender's end: writes seal records onto <paramref name="inner"/>.</summary>
    /// <param name="inner">The connection's bare stream (below the TLS stream that carried the secret).</param>
    /// <param name="secret">The connection's secret, <see cref="SecretBytes"/> long; copied.</param>
    /// <param name="owned">Disposed with this stream: the TLS stream the secret came over.</param>
    /// <param name="recordsPerKey">Records under one key (both ends must agree): <see cref="RecordsPerKey"/>, fewer in tests.</param>
    public static SealedRecordStream ForSending(Stream inner, ReadOnlySpan<byte> secret, IDisposable? owned, long recordsPerKey = RecordsPerKey) =>
        new(inner, secret, owned, sending: true, Timeout.InfiniteTimeSpan, CancellationToken.None, recordsPerKey);

    /// <summary>The listener's end: reads open records from <paramref name="inner"/>.</summary>
    /// <inheritdoc cref="ForSending" path="/param"/>
    /// <param name="stallLimit">Once a record has begun, no read may wait longer than this for its next bytes (a slow link keeps
    /// going, a stalled peer does not).</param>
    /// <param name="abort">Ends any read: the channel is closing.</param>
    /// <param name="time">The stall limit's clock: <see cref="TimeProvider.System"/> (null), a fake one in tests.</param>
    public static SealedRecordStream ForReceiving(Stream inner, ReadOnlySpan<byte> secret, IDisposable? owned, TimeSpan stallLimit,
        CancellationToken abort = default, long recordsPerKey = RecordsPerKey, TimeProvider? time = null) =>
        new(inner, secret, owned, sending: false, stallLimit, abort, recordsPerKey, time);

    /// <summary>Derives the key and IV of the next <see cref="RecordsPerKey"/> records, and moves the secret on past them.</summary>
    private AesGcm NextCipher()
    {
        Span<byte> key = stackalloc byte[KeyBytes];
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, key, "distclip bulk record key"u8);
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, _iv, "distclip bulk record iv"u8);
        var cipher = new AesGcm(key, TagBytes);
        CryptographicOperations.ZeroMemory(key);
        Span<byte> next = stackalloc byte[SecretBytes];
        HKDF.Expand(HashAlgorithmName.SHA256, _secret, next, "distclip bulk next secret"u8);
        next.CopyTo(_secret);
        CryptographicOperations.ZeroMemory(next);
        return cipher;
    }

    /// <summary>The nonce of the next record (its sequence number XOR the IV); moves to the next key when this one has sealed its share.</summary>
    private ReadOnlySpan<byte> NextNonce()
    {
        if (_sequence > 0 && _sequence % _recordsPerKey == 0)
        {
            _cipher.Dispose();
            _cipher = NextCipher();
        }
        _iv.CopyTo(_nonce, 0);
        var counter = _nonce.AsSpan(NonceBytes - sizeof(long));
        BinaryPrimitives.WriteInt64BigEndian(counter, BinaryPrimitives.ReadInt64BigEndian(counter) ^ _sequence++);
        return _nonce;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!_sending) throw new NotSupportedException("This end of a bulk connection receives; it never seals records.");
        while (buffer.Length > 0)
        {
            int n = Math.Min(buffer.Length, MaxRecord);
            var length = _record.AsSpan(0, LengthBytes);
            BinaryPrimitives.WriteInt32LittleEndian(length, n);
            var nonce = NextNonce();  // first: it may move _cipher to the next key
            _cipher.Encrypt(nonce, buffer[..n], _record.AsSpan(LengthBytes, n), _record.AsSpan(LengthBytes + n, TagBytes), length);
            _inner.Write(_record, 0, LengthBytes + n + TagBytes);
            buffer = buffer[n..];
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { Write(buffer.Span); }  // a bulk sender writes from its own thread, synchronously
        catch (Exception e) { return ValueTask.FromException(e); }
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    /// <summary>
    /// Opens the next record straight into <paramref name="buffer"/> when it fits (a frame's values: no copy beyond the
    /// cipher's), else into a buffer of its own that the next reads drain. Returns 0 at the end of the stream between
    /// records. <paramref name="cancellationToken"/> bounds the wait for a record to begin; the rest of it is bounded by the
    /// stall limit alone, re-armed as its bytes arrive, so a slow but steady link delivers records of any size.
    /// </summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_sending) throw new NotSupportedException("This end of a bulk connection sends; it never opens records.");
        if (buffer.Length == 0) return 0;
        if (_pending.IsEmpty)
        {
            int first = await _inner.ReadAsync(_record.AsMemory(0, LengthBytes), cancellationToken).ConfigureAwait(false);
            if (first == 0) return 0;
            await StallBoundReads.FillAsync(_inner, _record.AsMemory(first, LengthBytes - first), _stallLimit, _abort, _time).ConfigureAwait(false);
            int length = BinaryPrimitives.ReadInt32LittleEndian(_record);
            if (length is <= 0 or > MaxRecord) throw new InvalidDataException($"A sealed bulk record of {length} bytes; records hold 1 to {MaxRecord}.");
            await StallBoundReads.FillAsync(_inner, _record.AsMemory(LengthBytes, length + TagBytes), _stallLimit, _abort, _time).ConfigureAwait(false);
            if (buffer.Length >= length)
            {
                Open(length, buffer.Span[..length]);
                return length;
            }
            _plain ??= new byte[MaxRecord];
            Open(length, _plain.AsSpan(0, length));
            _pending = _plain.AsMemory(0, length);
        }
        int n = Math.Min(buffer.Length, _pending.Length);
        _pending.Span[..n].CopyTo(buffer.Span);
        _pending = _pending[n..];
        return n;
    }

    /// <summary>Whether opened bytes wait to be read, or sealed bytes have reached the stream below.</summary>
    bool IKnowsWaitingBytes.BytesWaiting => !_pending.IsEmpty || StallBoundReads.BytesWaiting(_inner);

    private void Open(int length, Span<byte> into)
    {
        var nonce = NextNonce();  // first: it may move _cipher to the next key
        try { _cipher.Decrypt(nonce, _record.AsSpan(LengthBytes, length), _record.AsSpan(LengthBytes + length, TagBytes), into, _record.AsSpan(0, LengthBytes)); }
        catch (CryptographicException)  // above all AuthenticationTagMismatchException
        {
            throw new InvalidDataException("A sealed bulk record failed to open: altered, replayed, out of order, or not of this connection.");
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => !_sending;
    public override bool CanWrite => _sending;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cipher.Dispose();
            CryptographicOperations.ZeroMemory(_secret);
            _owned?.Dispose();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
