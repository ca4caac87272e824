// Every protocol message through Akka's real serialization, chunking and reassembly.
using Akka.Serialization;
using DistClip.Protocol;
using DistClip.Protocol.Wire;
using Xunit;
using DistClip.Core;
using DistClip.Exchange.Chunks;

namespace DistClip.Tests.Wire;

public class SerializerSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly ModelSpec Spec = new("lenet", 1, 28, 28, 10, 64);
    private static readonly ModelSignature Signature = new("00ff", 61706, "conv1.weight:6x1x5x5;");

    private static readonly IWireMessage[] All =
    [
        new JoinRequest("worker-0", "cuda:1", ProtocolVersion.Current),
        new JobOffer(new JobSpec(Spec, "fashion-mnist", 3, 2000, 256)),
        new JobOffer(new JobSpec(Spec, "synthetic", 3, null, 64)),
        new JobOffer(new JobSpec(Spec, "cifar10", 3, null, 64, Augmentation.Parse("flip,crop:4,normalize:0.5/0.4/0.3:0.2/0.2/0.2")), "10.0.0.1:4060", 42),
        new RegisterWorker("worker-0", Signature, "cpu"),
        new WorkerAdmitted(42),
        new WorkerRefused("model mismatch"),
        new TrainingFinished(938),
        new ComputeGradients(7, 6, 2, [5, 9, 13]),
        new ShardGradients(7, 6, 2, 3, 1.25, [1f, -2f, float.NaN]),
        new ShardRefused(7, 2, "stale"),
        new ParameterUpdate(6, [0.5f, float.PositiveInfinity]),
        new GradientChunk(7, 6, 2, 3, 1.25, 10, 2, 5, new byte[20]),
        new ParameterChunk(6, 10, 2, 0, new byte[20]),
        new JobOffer(new JobSpec(Spec, "mnist", 3, null, 64), "10.0.0.1:4060", 42, "/dev/shm/distclip-17-2a-parameters", SharedMemoryToken: 23),
        new RegisterWorker("worker-1", Signature, "cpu", "10.0.0.2:4061", "/dev/shm/distclip-18-2a-worker-1", SharedMemorySlots: 2),
        new WorkerAdmitted(42, SharedMemory: true),
        new ShardGradientsShared(7, 6, 1, 64, 88.5),
        new ShardGradientsShared(7, 6, 3, 64, 88.5, Slot: 1),
        new ParametersShared(7),
        new JoinChallenge([1, 2, 3, 255]),
        new JoinProof("worker-0", [9, 8, 7]),
        new WorkerRefused("3 shard results that were not finite", Removed: true),
        new WorkerRefused("a worker named w is registered already", Transient: true),
        new TrainingFinished(150, "the checkpoint after step 150 could not be written"),
        new JobOffer(new JobSpec(Spec, "fashion-mnist", 3, 5000, 256, DataChallenge: [4, 17, 4095])),
        new RegisterWorker("worker-2", Signature, "cpu", Compute: new ComputeFingerprint("cpu", 2, "0.107.0.0", "avx512", "MKL_CBWR=COMPATIBLE", null, "AuthenticAMD"),
            DataHash: "ab12", DataCount: 5000),
        new JobOffer(new JobSpec(Spec, "fashion-mnist", 3, null, 256,
            Sharded: new ReplicaSpec("adamw", 0.001, 0.0, false, 0.01, "step", 5, 100, 0.5, 1e-5, 900, "auto:90:inf", 0.999))),
        new StepRanges(7, 12, 6, 1, [5, 5, 4], [new RangeOwner("/user/worker-0", null, 11), new RangeOwner("akka.tcp://distclip@10.0.0.2:4053/user/worker-0#7", "10.0.0.2:4060", -3)],
            [21, 22], CheckReplica: true),
        new ShardComputed(7, 12, 2, 4, 3.5, Finite: false),
        new ClipDecided(7, 12, 1.5f, 0.25f, double.NaN),
        new ReplicaStateChunk(6, 7, 9, 4, [1, 2, 3, 4, 5]),
        new ReplicaHashReport(50, "00ff"),
    ];

    public static TheoryData<IWireMessage> Messages() => new(All);

    [Fact]
    public void Should_cover_every_message_type()
    {
        var covered = All.Select(m => m.GetType()).ToHashSet();
        Assert.Equal(DistClipSerializer.MessageTypes.OrderBy(t => t.Name), covered.OrderBy(t => t.Name));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Should_round_trip_through_the_distclip_serializer(IWireMessage message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<DistClipSerializer>(serializer);
        var manifest = Serialization.ManifestFor(serializer, message);
        var back = Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
        Assert.Equal(Describe(message), Describe(back));
    }

    // Records with arrays compare by reference; compare their contents instead.
    private static string Describe(object m) => m switch
    {
        ComputeGradients c => $"{c with { SampleIndices = [] }} {string.Join(',', c.SampleIndices)}",
        JobOffer { Job.DataChallenge: { } challenge } o => $"{o with { Job = o.Job with { DataChallenge = null } }} {string.Join(',', challenge)}",
        JobOffer { Job.Augmentation: { } a } o => $"{o with { Job = o.Job with { Augmentation = null } }} {a with { Mean = null, Std = null }} {string.Join(',', a.Mean ?? [])} {string.Join(',', a.Std ?? [])}",
        ShardGradients g => $"{g with { GradientSum = [] }} {string.Join(',', g.GradientSum)}",
        ParameterUpdate u => $"{u with { Values = [] }} {string.Join(',', u.Values)}",
        GradientChunk c => $"{c with { Data = [] }} {Convert.ToHexString(c.Data)}",
        ParameterChunk c => $"{c with { Data = [] }} {Convert.ToHexString(c.Data)}",
        JoinChallenge c => $"challenge {Convert.ToHexString(c.Nonce)}",
        StepRanges r => $"{r with { ShardSamples = [], Owners = [], AcceptTokens = [] }} {string.Join(',', r.ShardSamples)} {string.Join(',', r.Owners)} {string.Join(',', r.AcceptTokens)}",
        ReplicaStateChunk c => $"{c with { Data = [] }} {Convert.ToHexString(c.Data)}",
        JoinProof p => $"proof {p.WorkerName} {Convert.ToHexString(p.Mac)}",
        _ => m.ToString()!,
    };

    [Fact]
    public void Should_reject_an_unknown_manifest_naming_the_protocol_version()
    {
        var serializer = (DistClipSerializer)Sys.Serialization.FindSerializerForType(typeof(WorkerAdmitted));
        var e = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0x91, 0x01], "worker-admitted.v0"));
        Assert.Contains("protocol version", e.Message);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0xc1, 0xff, 0x00], $"worker-admitted.v{ProtocolVersion.Current}"));
    }

    [Fact]
    public void Should_send_other_objects_through_hyperion_not_newtonsoft()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new List<string> { "a" });
        Assert.IsType<HyperionFallbackSerializer>(serializer);
        var back = (List<string>)serializer.FromBinary(serializer.ToBinary(new List<string> { "a", "b" }), typeof(object));
        Assert.Equal(["a", "b"], back);
    }

    /// <summary>DistClip's in-process messages (a stop request, a reachability verdict) must not be accepted from the network.</summary>
    [Fact]
    public void Should_refuse_to_deserialize_distclip_messages_that_never_travel()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new DistClip.Coordinator.StopTraining("x"));
        Assert.IsType<HyperionFallbackSerializer>(serializer);
        Assert.ThrowsAny<Exception>(() => serializer.ToBinary(new DistClip.Coordinator.StopTraining("x")));   // nor sent by mistake
        using var stranger = new MemoryStream();   // a stranger's Hyperion has no such filter
        new Hyperion.Serializer(new Hyperion.SerializerOptions(versionTolerance: true, preserveObjectReferences: true, surrogates: null,
                serializerFactories: null, knownTypes: null, ignoreISerializable: true, packageNameOverrides: null, disallowUnsafeTypes: false,
                typeFilter: Hyperion.DisabledTypeFilter.Instance))
            .Serialize(new DistClip.Coordinator.StopTraining("sent by a stranger"), stranger);
        Assert.ThrowsAny<Exception>(() => serializer.FromBinary(stranger.ToArray(), typeof(object)));
    }

    [Fact]
    public void Should_split_a_large_gradient_into_bounded_chunks_that_fit_a_frame_and_reassemble_it()
    {
        var gradient = Enumerable.Range(0, 3 * Chunking.ChunkElements + 17).Select(i => (float)Math.Sin(i)).ToArray();
        var message = new ShardGradients(3, 2, 1, 64, 9.5, gradient);
        var chunks = Chunking.Split(message).ToArray();
        Assert.Equal(4, chunks.Length);

        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(chunks[0]);
        long frame = Sys.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 0;
        var assembler = new ChunkAssembler<int>(gradient.Length);
        float[]? whole = null;
        foreach (var chunk in chunks.Reverse())  // any order
        {
            var bytes = serializer.ToBinary(chunk);
            Assert.True(bytes.Length < frame, $"a maximal chunk serializes to {bytes.Length} bytes; the frame is {frame}");
            var back = (GradientChunk)serializer.FromBinary(bytes, Serialization.ManifestFor(serializer, chunk));
            whole = assembler.Add(back.Shard, back.ElementCount, back.ChunkCount, back.Offset, back.Data, out var rejection) ?? whole;
            Assert.Null(rejection);
        }
        Assert.Equal(gradient, whole);
        Assert.Equal(0, assembler.OpenTransfers);
    }

    [Fact]
    public void Should_reject_chunks_that_do_not_fit_their_transfer()
    {
        var assembler = new ChunkAssembler<int>(4);
        Assert.Null(assembler.Add(1, 4, 2, 0, new byte[8], out var ok));
        Assert.Null(ok);
        assembler.Add(1, 4, 2, 0, new byte[8], out var duplicate);
        Assert.Contains("duplicate", duplicate);
        assembler.Add(1, 4, 3, 2, new byte[8], out var contradicting);
        Assert.Contains("began with 4 in 2", contradicting);
        assembler.Add(2, 4, 2, 3, new byte[8], out var outOfRange);
        Assert.Contains("does not fit", outOfRange);
        Assert.NotNull(assembler.Add(1, 4, 2, 2, new byte[8], out _));
    }

    /// <summary>A chunk or a bulk frame that claims 1e9 elements is refused from its header: nothing near its size is allocated.</summary>
    [Fact]
    public void Should_refuse_a_chunk_or_frame_claiming_more_than_the_model_before_allocating()
    {
        var assembler = new ChunkAssembler<int>(1000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Null(assembler.Add(1, 1_000_000_000, 2, 0, new byte[8], out var rejection));
        Assert.Contains("1000000000 elements; this model exchanges 1000", rejection);
        Assert.Equal(0, assembler.OpenTransfers);

        var written = new MemoryStream();
        DistClip.Exchange.Bulk.BulkFrame.Write(written, new DistClip.Exchange.Bulk.BulkMessage(
            DistClip.Exchange.Bulk.BulkKind.Gradients, 42, 1, 1, 0, 1, 0.5, new float[1]));
        var frame = written.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(45), 1_000_000_000);  // the element count
        var thrown = Assert.Throws<InvalidDataException>(() => DistClip.Exchange.Bulk.BulkFrame.Read(new MemoryStream(frame), maxElements: 1000));
        Assert.Contains("1000000000 elements; at most 1000", thrown.Message);
        var otherRun = Assert.Throws<InvalidDataException>(() => DistClip.Exchange.Bulk.BulkFrame.ReadAsync(new MemoryStream(written.ToArray()), 1000, acceptsToken: token => token == 7,
            null, CancellationToken.None, TimeSpan.FromSeconds(2), CancellationToken.None).AsTask().GetAwaiter().GetResult());
        Assert.Contains("a token this end does not accept", otherRun.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "a claim of 4 GB allocated memory before it was refused");
    }

    /// <summary>
    /// A bulk frame carries its range: the values of elements [offset, offset + length) of the exchange vector travel with
    /// their offset, and a range that reaches past the vector (however its offset and length are chosen) is refused from
    /// the header, before its values are read.
    /// </summary>
    [Theory]
    [InlineData(0, 1000)]       // a whole vector
    [InlineData(384, 320)]      // one owner's range
    [InlineData(999, 1)]
    [InlineData(1000, 0)]       // an empty range at the end
    public void Should_carry_a_frames_range_and_refuse_one_past_the_vector(int offset, int length)
    {
        var values = Enumerable.Range(0, length).Select(i => i * 0.5f).ToArray();
        var written = new MemoryStream();
        DistClip.Exchange.Bulk.BulkFrame.Write(written, new DistClip.Exchange.Bulk.BulkMessage(
            DistClip.Exchange.Bulk.BulkKind.Gradients, 42, 3, 2, 1, 8, 0.25, values) { Offset = offset });
        var read = DistClip.Exchange.Bulk.BulkFrame.Read(new MemoryStream(written.ToArray()), maxElements: 1000)!;
        Assert.Equal(offset, read.Offset);
        Assert.Equal(values, read.Values);
        Assert.Equal((3L, 2L, 1, 8, 0.25), (read.Step, read.Version, read.Shard, read.SampleCount, read.LossSum));

        foreach (int past in new[] { 1000 - length + 1, int.MaxValue - length / 2, -1 })
        {
            var frame = written.ToArray();
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(49), past);   // the offset
            var thrown = Assert.Throws<InvalidDataException>(() => DistClip.Exchange.Bulk.BulkFrame.Read(new MemoryStream(frame), maxElements: 1000));
            Assert.Contains($"elements [{past}, {(long)past + length}); the exchange vector has 1000", thrown.Message);
        }
    }
}
