// Gathers a TLS stream's 16 KiB records into large socket writes once the handshake is over.
namespace DistClip.Exchange.Bulk;

/// <summary>
/// Sits between an <see cref="System.Net.Security.SslStream"/> and its socket. SslStream writes every TLS record (at most
/// 16 KiB) to the socket on its own: hundreds of system calls per frame. Once <see cref="Batching"/> is on (after the
/// handshake: SslStream does not flush the stream below it between handshake messages), writes gather in a buffer that goes
/// out when full and on <see cref="Flush"/> (the end of each frame). Reads pass straight through (batching them as well
/// measured no faster: it adds a copy). Not for concurrent writes (a bulk connection has one writer, under its lock).
/// </summary>
public sealed class RecordBatchingStream(Stream inner, int capacity) : Stream
{
    private readonly byte[] _buffer = new byte[capacity];
    private int _filled;

    /// <summary>Whether writes are gathered (after the handshake) or passed straight through.</summary>
    public bool Batching { get; set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!Batching) { inner.Write(buffer); return; }
        while (buffer.Length > 0)
        {
            if (_filled == 0 && buffer.Length >= _buffer.Length) { inner.Write(buffer); return; }
            int n = Math.Min(buffer.Length, _buffer.Length - _filled);
            buffer[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            buffer = buffer[n..];
            if (_filled == _buffer.Length) FlushBuffer();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!Batching) return inner.WriteAsync(buffer, cancellationToken);
        Write(buffer.Span);  // a bulk sender writes from its own thread, synchronously
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void FlushBuffer()
    {
        if (_filled == 0) return;
        inner.Write(_buffer, 0, _filled);
        _filled = 0;
    }

    public override void Flush()
    {
        FlushBuffer();
        inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => inner.Read(buffer);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
