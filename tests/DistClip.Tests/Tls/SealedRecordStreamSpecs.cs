// The bulk channel's record layer under TLS: what one end seals the other opens, bit for bit, and nothing else opens.
using System.Security.Cryptography;
using DistClip.Exchange.Bulk;
using Xunit;

namespace DistClip.Tests.Tls;

public sealed class SealedRecordStreamSpecs
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);
    private const int Overhead = 4 + 16;  // a record's length field and tag

    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(SealedRecordStream.SecretBytes);

    /// <summary>What a sender with <paramref name="secret"/> puts on the wire for these writes, in order.</summary>
    private static byte[] Sealed(byte[] secret, long recordsPerKey, params byte[][] writes)
    {
        var wire = new MemoryStream();
        using (var writer = SealedRecordStream.ForSending(wire, secret, owned: null, recordsPerKey))
            foreach (var write in writes) writer.Write(write);
        return wire.ToArray();
    }

    private static SealedRecordStream Reader(byte[] wire, byte[]? secret = null, long recordsPerKey = SealedRecordStream.RecordsPerKey) =>
        SealedRecordStream.ForReceiving(new MemoryStream(wire), secret ?? Secret, owned: null, Stall, recordsPerKey: recordsPerKey);

    /// <summary>Reads everything, <paramref name="chunk"/> bytes at a time at most.</summary>
    private static async Task<byte[]> ReadAllAsync(Stream reader, int chunk)
    {
        var all = new MemoryStream();
        var buffer = new byte[chunk];
        for (int n; (n = await reader.ReadAsync(buffer)) > 0;) all.Write(buffer, 0, n);
        return all.ToArray();
    }

    [Theory]
    [InlineData(BulkFrame.Header)]                // a frame header: one record, opened straight into the reader's buffer
    [InlineData(SealedRecordStream.MaxRecord)]    // exactly one full record
    [InlineData(1_000_003)]                       // records of 256 KiB and a short last one
    public async Task Should_open_what_it_sealed_bit_for_bit_whatever_the_reader_asks_for_at_a_time(int bytes)
    {
        var header = RandomNumberGenerator.GetBytes(BulkFrame.Header);
        var values = RandomNumberGenerator.GetBytes(bytes);
        var wire = Sealed(Secret, SealedRecordStream.RecordsPerKey, header, values);

        int records = 1 + (bytes + SealedRecordStream.MaxRecord - 1) / SealedRecordStream.MaxRecord;
        Assert.Equal(BulkFrame.Header + bytes + records * Overhead, wire.Length);
        Assert.Equal(-1, wire.AsSpan().IndexOf(values.AsSpan(0, 32)));  // the values are not on the wire in the clear
        byte[] written = [.. header, .. values];
        foreach (int chunk in new[] { 7, BulkFrame.Header, 64 << 10, 4 << 20 })
            Assert.Equal(written, await ReadAllAsync(Reader(wire), chunk));
    }

    [Fact]
    public async Task Should_move_both_ends_to_a_new_key_every_so_many_records()
    {
        var records = Enumerable.Range(0, 7).Select(_ => RandomNumberGenerator.GetBytes(100)).ToArray();
        var wire = Sealed(Secret, recordsPerKey: 3, records);

        Assert.Equal(records.SelectMany(r => r), await ReadAllAsync(Reader(wire, recordsPerKey: 3), 100));
        // A reader that keeps the first key opens the first three records, and not the fourth: the key did change.
        var stale = Reader(wire, recordsPerKey: 100);
        var buffer = new byte[100];
        for (int i = 0; i < 3; i++) Assert.Equal(100, await stale.ReadAsync(buffer));
        await Assert.ThrowsAsync<InvalidDataException>(() => stale.ReadExactlyAsync(buffer).AsTask());
    }

    public static TheoryData<string> Tamperings => ["a flipped bit", "records swapped", "a record replayed", "another secret", "a record cut out"];

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task Should_refuse_a_record_that_was_altered_reordered_replayed_dropped_or_sealed_under_another_secret(string tampering)
    {
        var (first, second, third) = (RandomNumberGenerator.GetBytes(100), RandomNumberGenerator.GetBytes(100), RandomNumberGenerator.GetBytes(100));
        var wire = Sealed(Secret, SealedRecordStream.RecordsPerKey, first, second, third);
        int record = 100 + Overhead;
        byte[] Of(int i) => wire[(i * record)..((i + 1) * record)];
        var secret = Secret;
        switch (tampering)
        {
            case "a flipped bit": wire[record + 40] ^= 1; break;
            case "records swapped": wire = [.. Of(0), .. Of(2), .. Of(1)]; break;
            case "a record replayed": wire = [.. Of(0), .. Of(0), .. Of(2)]; break;
            case "another secret": secret = RandomNumberGenerator.GetBytes(SealedRecordStream.SecretBytes); break;
            case "a record cut out": wire = [.. Of(0), .. Of(2)]; break;
        }
        var reader = Reader(wire, secret);
        var buffer = new byte[100];
        if (tampering != "another secret")
        {
            Assert.Equal(100, await reader.ReadAsync(buffer));
            Assert.Equal(first, buffer);
        }
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => reader.ReadExactlyAsync(buffer).AsTask());
        Assert.Contains("failed to open", e.Message);
    }

    [Theory]
    [InlineData(SealedRecordStream.MaxRecord + 1)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Should_refuse_a_record_length_out_of_range_before_reading_the_record(int length)
    {
        var wire = Sealed(Secret, SealedRecordStream.RecordsPerKey, new byte[10]);
        BitConverter.TryWriteBytes(wire.AsSpan(0, 4), length);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Reader(wire).ReadExactlyAsync(new byte[10]).AsTask());
        Assert.Contains($"record of {length} bytes", e.Message);
    }

    [Fact]
    public void Should_either_send_or_receive_never_both()
    {
        using var sending = SealedRecordStream.ForSending(new MemoryStream(), Secret, owned: null);
        using var receiving = Reader([]);
        Assert.True(sending.CanWrite && !sending.CanRead && receiving.CanRead && !receiving.CanWrite);
        Assert.Throws<NotSupportedException>(() => receiving.Write(new byte[10]));
        Assert.Throws<NotSupportedException>(() => sending.ReadExactly(new byte[10]));
    }

    [Fact]
    public async Task Should_end_cleanly_between_records_and_not_within_one()
    {
        var wire = Sealed(Secret, SealedRecordStream.RecordsPerKey, new byte[100], new byte[100]);
        var whole = Reader(wire[..(100 + Overhead)]);
        Assert.Equal(100, await whole.ReadAsync(new byte[100]));
        Assert.Equal(0, await whole.ReadAsync(new byte[100]));
        var cut = Reader(wire[..(100 + Overhead + 50)]);
        Assert.Equal(100, await cut.ReadAsync(new byte[100]));
        await Assert.ThrowsAsync<EndOfStreamException>(() => cut.ReadExactlyAsync(new byte[100]).AsTask());
    }

    [Fact]
    public async Task Should_give_up_on_a_record_whose_bytes_stop_coming()
    {
        using var pair = await LoopbackPorts.ConnectedPairAsync();
        var (sender, receiver) = pair;
        var wire = Sealed(Secret, SealedRecordStream.RecordsPerKey, new byte[100]);
        await sender.GetStream().WriteAsync(wire.AsMemory(0, 30));  // the length and part of the record, then nothing

        var reader = SealedRecordStream.ForReceiving(receiver.GetStream(), Secret, owned: null, TimeSpan.FromMilliseconds(300));
        var waiting = reader.ReadAsync(new byte[100]).AsTask();
        var done = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(waiting, done);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    /// <summary>
    /// A link slower than a record per stall limit still delivers: the limit bounds a wait for the next bytes, not a record
    /// or a frame (here a 400 KB frame trickles in over 4 s, in pieces 100 ms apart, under a limit of 1 s: its first record
    /// alone takes 2.6 s).
    /// </summary>
    [Fact]
    public async Task Should_keep_reading_a_frame_that_arrives_slowly_but_steadily()
    {
        using var pair = await LoopbackPorts.ConnectedPairAsync();
        var (sender, receiver) = pair;
        sender.NoDelay = true;
        var values = Enumerable.Range(0, 100_000).Select(i => MathF.Cos(i)).ToArray();
        var framed = new MemoryStream();
        BulkFrame.Write(SealedRecordStream.ForSending(framed, Secret, owned: null), new BulkMessage(BulkKind.Gradients, 5, 3, 2, 1, 8, 4.5, values));
        var wire = framed.ToArray();

        var limit = TimeSpan.FromSeconds(1);
        var reading = BulkFrame.ReadAsync(SealedRecordStream.ForReceiving(receiver.GetStream(), Secret, owned: null, limit), 1_000_000, null, null,
            CancellationToken.None, limit, CancellationToken.None).AsTask();
        var trickle = new Thread(() =>  // a thread of its own: its pieces keep their pace while other tests load the thread pool
        {
            int piece = wire.Length / 40 + 1;
            try
            {
                for (int at = 0; at < wire.Length; at += piece)
                {
                    sender.GetStream().Write(wire, at, Math.Min(piece, wire.Length - at));
                    Thread.Sleep(100);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }  // the reader gave up: the assertion below says so
        });
        trickle.Start();
        BulkMessage? frame;
        try { frame = await reading.WaitAsync(TimeSpan.FromSeconds(20)); }
        finally { sender.Close(); trickle.Join(); }
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), frame!.Values.Select(BitConverter.SingleToInt32Bits));
    }
}
