// The shared-memory data plane: segments open only within their run, and readers never take a rewritten vector.
using System.Diagnostics;
using DistClip.Protocol;
using DistClip.Exchange;
using DistClip.Exchange.SharedMemory;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Wire;

public sealed class SharedSegmentSpecs : IDisposable
{
    private const long Token = 0x5eed;
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-shm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_peer_should_see_what_the_owner_published_under_its_tag()
    {
        using var owner = SharedSegment.Create(_dir, "a", Token, 5);
        using var peer = SharedSegment.Open(owner.Path, Token, 5);
        Assert.False(peer.Holds(0));  // nothing published yet

        owner.BeginWrite();
        new float[] { 1, 2, 3, 4, 5 }.CopyTo(owner.Values);
        owner.Publish(7);

        Assert.True(peer.Holds(7));
        Assert.False(peer.Holds(6));
        Assert.Equal([1f, 2, 3, 4, 5], peer.Memory.ToArray());
        var copy = new float[5];
        Assert.True(peer.TryRead(7, (values, state) => values.CopyTo((float[])state!), copy));
        Assert.Equal([1f, 2, 3, 4, 5], copy);
    }

    [Fact]
    public void A_read_that_overlaps_a_rewrite_should_report_failure()
    {
        using var owner = SharedSegment.Create(_dir, "b", Token, 3);
        using var peer = SharedSegment.Open(owner.Path, Token, 3);
        owner.BeginWrite();
        owner.Publish(1);

        bool ok = peer.TryRead(1, (_, _) =>
        {
            owner.BeginWrite();   // the owner moves on while the peer is copying
            owner.Values[0] = 9;
            owner.Publish(2);
        });

        Assert.False(ok);
        Assert.False(peer.TryRead(1, (_, _) => Assert.Fail("must not read a vector that is not published under the tag")));
        owner.BeginWrite();
        Assert.False(peer.Holds(2));  // while a write is under way, no tag is published
    }

    [Fact]
    public void Should_refuse_a_segment_of_another_run_or_length_naming_the_file()
    {
        using var owner = SharedSegment.Create(_dir, "c", Token, 4);
        var otherRun = Assert.Throws<InvalidDataException>(() => SharedSegment.Open(owner.Path, Token + 1, 4));
        Assert.Contains(owner.Path, otherRun.Message);
        var otherLength = Assert.Throws<InvalidDataException>(() => SharedSegment.Open(owner.Path, Token, 5));
        Assert.Contains(owner.Path, otherLength.Message);
        Assert.Throws<FileNotFoundException>(() => SharedSegment.Open(Path.Combine(_dir, "absent"), Token, 4));
    }

    /// <summary>A full /dev/shm (Docker's is 64 MB) must fail at creation, not with SIGBUS at the first write. Needs root (mount).</summary>
    [Fact]
    public void Should_refuse_a_segment_the_file_system_has_no_room_for()
    {
        var tiny = Directory.CreateDirectory(Path.Combine(_dir, "tiny")).FullName;
        SystemCommand.Run("mount", $"-t tmpfs -o size=1m tmpfs {tiny}");
        try
        {
            var e = Assert.Throws<IOException>(() => SharedSegment.Create(tiny, "big", Token, 1 << 20));  // 4 MB
            Assert.Contains($"No room for a 4.2 MB shared segment in {tiny}", e.Message);
            Assert.Empty(Directory.GetFiles(tiny));
            using var small = SharedSegment.Create(tiny, "small", Token, 1000);
            small.Values.Fill(1);
        }
        finally
        {
            SystemCommand.Run("umount", $"--lazy {tiny}");  // lazy: a mapping a failed assertion left open must not keep it mounted
        }
    }

    [Fact]
    public void Should_delete_segments_of_processes_that_are_gone_and_keep_live_ones()
    {
        using var dead = Process.Start(new ProcessStartInfo("true"))!;
        dead.WaitForExit();
        var stale = Path.Combine(_dir, $"distclip-{dead.Id}-1f-parameters");
        File.WriteAllText(stale, "left by a crash");
        using var live = SharedSegment.Create(_dir, "d", Token, 2);  // creating sweeps the directory

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live.Path));
        live.Unlink();
        Assert.False(File.Exists(live.Path));
        live.Values[0] = 1;  // still mapped after the name is gone
    }

    [Fact]
    public void A_worker_link_and_the_coordinator_peers_should_exchange_a_step_and_a_version()
    {
        using var model = Models.Zoo.ModelZoo.Create(new ModelSpec("mlp", 1, 1, 1, 2, 2), 0);  // 1·2+2 + 2·2+2 = 10 values
        var replica = new FlatParameters(model);
        int length = (int)replica.ExchangeLength;
        var gradient = Enumerable.Range(1, length).Select(i => (float)i).ToArray();
        using var peers = new SharedMemoryPeers<string>(_dir, Token, length);
        var offer = new JobOffer(new JobSpec(new ModelSpec("mlp", 1, 1, 1, 2, 2), "synthetic", 1, null, 64), null, 0, peers.ParametersPath, SharedMemoryToken: Token);
        using var link = SharedMemoryLink.TryOpen(offer, _dir, "host:1/worker-0", length, out var why);
        Assert.Null(why);
        Assert.Equal(SharedMemoryLink.MaxSlots, link!.Slots);
        Assert.True(peers.TryAdd("w0", link.GradientsPath, link.Slots, out _));

        // Two shards of step 3 go into the two slots; both stay readable (the reducer may hold the first while the
        // second is written); a third must travel in a message.
        var second = gradient.Select(v => -v).ToArray();
        Assert.Equal(0, link.TryClaimFor(3));
        gradient.CopyTo(link.Gradients(0));
        link.PublishGradients(3, 0);
        Assert.Equal(1, link.TryClaimFor(3));
        second.CopyTo(link.Gradients(1));
        link.PublishGradients(3, 1);
        Assert.Equal(-1, link.TryClaimFor(3));

        var sum = peers.Read("w0", new ShardGradientsShared(3, 2, 1, 10, 4.5), out var rejection);
        Assert.Null(rejection);
        Assert.Equal((3L, 1, 10, 4.5), (sum!.Value.Step, sum.Value.Shard, sum.Value.SampleCount, sum.Value.LossSum));
        Assert.Equal(gradient, sum.Value.GradientSum.ToArray());
        var sum2 = peers.Read("w0", new ShardGradientsShared(3, 2, 3, 10, 4.5, Slot: 1), out rejection);
        Assert.Null(rejection);
        Assert.Equal(second, sum2!.Value.GradientSum.ToArray());
        Assert.Equal(gradient, sum.Value.GradientSum.ToArray());  // the first slot untouched by the second
        Assert.Null(peers.Read("w0", new ShardGradientsShared(3, 2, 1, 10, 4.5, Slot: 2), out rejection));
        Assert.Contains("no gradient slot 2", rejection);
        Assert.Equal(0, link.TryClaimFor(4));  // a new step starts at the first slot again
        Assert.Null(peers.Read("w0", new ShardGradientsShared(4, 2, 1, 10, 4.5), out rejection));
        Assert.Contains("step 4", rejection);
        Assert.Null(peers.Read("stranger", new ShardGradientsShared(3, 2, 1, 10, 4.5), out rejection));
        Assert.NotNull(rejection);

        int writes = 0;
        peers.PublishParameters(9, values => { writes++; values.Fill(0.5f); });
        peers.PublishParameters(9, _ => writes++);  // already holds version 9: not rewritten
        Assert.Equal(1, writes);
        Assert.False(link.TryLoad(8, replica));  // not the version the segment holds
        Assert.NotEqual(Enumerable.Repeat(0.5f, length), replica.ReadValues());
        Assert.True(link.TryLoad(9, replica));
        Assert.Equal(Enumerable.Repeat(0.5f, length), replica.ReadValues());
    }

    [Fact]
    public void A_worker_should_fall_back_to_the_bulk_channel_when_the_coordinator_segment_is_elsewhere()
    {
        var offer = new JobOffer(new JobSpec(new ModelSpec("mlp", 1, 1, 1, 2, 4), "synthetic", 1, null, 64), null, 0, "/dev/shm/distclip-1-absent-parameters", SharedMemoryToken: Token);
        Assert.Null(SharedMemoryLink.TryOpen(offer, _dir, "worker-0", 6, out var why));
        Assert.Contains("another host", why);
        Assert.Null(SharedMemoryLink.TryOpen(offer with { SharedMemoryPath = null }, _dir, "worker-0", 6, out why));

        using var otherRun = SharedSegment.Create(_dir, "e", Token + 1, 6);
        Assert.Null(SharedMemoryLink.TryOpen(offer with { SharedMemoryPath = otherRun.Path }, _dir, "worker-0", 6, out why));
        Assert.Contains("another run", why);
        using var peers = new SharedMemoryPeers<string>(_dir, Token, 6);
        Assert.False(peers.TryAdd("w0", otherRun.Path, 1, out why));
        Assert.Contains("another run", why);
        Assert.False(peers.Has("w0"));
    }
}
