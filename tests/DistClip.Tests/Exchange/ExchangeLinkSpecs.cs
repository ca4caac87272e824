// Each link of the exchange layer, both ends, including the bulk channel's fallback on messages.
using Akka.TestKit;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Exchange;
using Xunit;
using DistClip.Core;
using DistClip.Exchange.Chunks;

namespace DistClip.Tests.Exchange;

/// <summary>
/// <see cref="WorkerLinks"/> (the coordinator's end) and <see cref="CoordinatorLink"/> (a worker's end)
/// against each other, with probes standing in for the actors: the link chosen at admission, parameters
/// arriving as a version loaded into a replica, gradients arriving as a shard sum attributed to the worker.
/// </summary>
public sealed class ExchangeLinkSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly ModelSpec Spec = new("mlp", 1, 4, 4, 3, Hidden: 5);
    private readonly string _shm = Directory.CreateTempSubdirectory("distclip-exchange-").FullName;
    private readonly List<IDisposable> _open = [];

    protected override void AfterAll()
    {
        foreach (var o in _open) o.Dispose();
        Directory.Delete(_shm, recursive: true);
        base.AfterAll();
    }

    private T Open<T>(T disposable) where T : IDisposable { _open.Add(disposable); return disposable; }

    private static JobSpec Job => new(Spec, "synthetic", 0, null, 256);

    /// <summary>A replica's flat layout, and its exchange length.</summary>
    private static FlatParameters Replica() => new(ModelZoo.Create(Spec, 0));

    private static float[] Ramp(int length, float scale) => Enumerable.Range(0, length).Select(i => i * scale).ToArray();


    private ExchangeSettings Settings(bool sharedMemory) => new("127.0.0.1", "127.0.0.1", 0, sharedMemory ? _shm : null);

    /// <summary>The coordinator's links, a worker's link from the coordinator's offer, and the worker admitted; returns the link kind.</summary>
    private (WorkerLinks Links, CoordinatorLink Link, LinkKind Kind) Connect(TestProbe coordinator, TestProbe worker, FlatParameters replica,
        ExchangeSettings? coordinatorEnd, ExchangeSettings? workerEnd, string? bulkEndpointOverride = null)
    {
        var links = Open(new WorkerLinks(coordinatorEnd, (int)replica.ExchangeLength, coordinator.Ref, _ => { }, _ => { }));
        var (link, kind) = Join(links, worker, "worker-0", replica, workerEnd, bulkEndpointOverride);
        return (links, link, kind);
    }

    /// <summary>A worker's link from the coordinator's offer to it, and the worker admitted; returns the link kind.</summary>
    private (CoordinatorLink Link, LinkKind Kind) Join(WorkerLinks links, TestProbe worker, string name, FlatParameters replica, ExchangeSettings? workerEnd,
        string? bulkEndpointOverride = null)
    {
        var link = Open(CoordinatorLink.Open(links.Offer(worker.Ref, Job), workerEnd, name, (int)replica.ExchangeLength, worker.Ref, _ => { }, _ => { }));
        var kind = links.Admit(worker.Ref, new RegisterWorker(name, replica.Signature, "cpu", bulkEndpointOverride ?? link.BulkEndpoint, link.SharedMemoryPath, link.SharedMemorySlots));
        link.OnAdmitted(kind == LinkKind.SharedMemory);
        return (link, kind);
    }

    /// <summary>Parameters of version 3 sent by the coordinator's end arrive at the worker, in the form <typeparamref name="TForm"/>, as version 3 in its replica.</summary>
    private void AssertParametersArrive<TForm>(WorkerLinks links, CoordinatorLink link, TestProbe worker, FlatParameters replica) where TForm : IDataPlaneMessage
    {
        var master = Ramp((int)replica.ExchangeLength, 0.01f);
        links.SendParameters(worker.Ref, 3, d => master.CopyTo(d));
        var message = worker.ExpectMsg<IDataPlaneMessage>(Wait);
        Assert.IsType<TForm>(message);
        Assert.Equal(3L, link.Load(message, replica, current: 2));
        Assert.Equal(master, replica.ReadValues());
    }

    /// <summary>A shard computed on the worker's end arrives at the coordinator's end, in the form <typeparamref name="TForm"/>, whole and attributed to the worker.</summary>
    private ShardSum AssertGradientsArrive<TForm>(WorkerLinks links, CoordinatorLink link, TestProbe coordinator, TestProbe worker, int length, int shard = 0) where TForm : IDataPlaneMessage
    {
        var sent = Ramp(length, 0.5f);
        link.SendGradients(coordinator.Ref, new ComputeGradients(7, 3, shard, [1, 2, 3]), sum => { sent.CopyTo(sum); return 1.25; });
        var message = coordinator.ExpectMsg<IDataPlaneMessage>(Wait);
        Assert.IsType<TForm>(message);
        var arrived = links.Receive(message, worker.Ref, step: 7, out var rejection);
        Assert.Null(rejection);
        Assert.NotNull(arrived);
        var (from, sum) = arrived.Value;
        Assert.Equal(worker.Ref, from);
        Assert.Equal((7L, 3L, shard, 3, 1.25), (sum.Step, sum.Version, sum.Shard, sum.SampleCount, sum.LossSum));
        Assert.Equal(sent, sum.GradientSum.ToArray());
        return sum;
    }

    [Fact]
    public void Should_pass_parameters_and_gradients_by_reference_inside_one_process()
    {
        var (coordinator, worker, replica) = (CreateTestProbe(), CreateTestProbe(), Replica());
        var (links, link, kind) = Connect(coordinator, worker, replica, coordinatorEnd: null, workerEnd: null);
        Assert.Equal(LinkKind.InProcess, kind);
        AssertParametersArrive<ParameterUpdate>(links, link, worker, replica);
        AssertGradientsArrive<ShardGradients>(links, link, coordinator, worker, (int)replica.ExchangeLength);
    }

    [Fact]
    public void Should_exchange_through_the_bulk_channel_when_both_ends_have_one()
    {
        var (coordinator, worker, replica) = (CreateTestProbe(), CreateTestProbe(), Replica());
        var (links, link, kind) = Connect(coordinator, worker, replica, Settings(sharedMemory: false), Settings(sharedMemory: false));
        Assert.Equal(LinkKind.BulkChannel, kind);
        AssertParametersArrive<BulkArrival>(links, link, worker, replica);
        AssertGradientsArrive<BulkArrival>(links, link, coordinator, worker, (int)replica.ExchangeLength);
    }

    /// <summary>
    /// Each worker gets a token of its own in its offer; a bulk frame is attributed to the worker whose token it carries
    /// (not to the actor that told it), and once a worker is removed its frames are refused at the listener, as are a
    /// stranger's under a token nobody was given.
    /// </summary>
    [Fact]
    public void Should_attribute_bulk_frames_by_the_workers_own_token_and_refuse_them_once_it_is_removed()
    {
        var (coordinator, a, b, replica) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), Replica());
        int length = (int)replica.ExchangeLength;
        var links = Open(new WorkerLinks(Settings(sharedMemory: false), length, coordinator.Ref, _ => { }, _ => { }));
        var (linkA, _) = Join(links, a, "worker-a", replica, Settings(sharedMemory: false));
        var (linkB, _) = Join(links, b, "worker-b", replica, Settings(sharedMemory: false));
        var (tokenA, tokenB) = (links.Offer(a.Ref, Job).BulkToken, links.Offer(b.Ref, Job).BulkToken);
        Assert.NotEqual(tokenA, tokenB);

        foreach (var (link, worker) in new[] { (linkA, a), (linkB, b) })
        {
            link.SendGradients(coordinator.Ref, new ComputeGradients(7, 3, 0, [1]), sum => { sum.Fill(1f); return 1.0; });
            var arrival = coordinator.ExpectMsg<BulkArrival>(Wait);
            var (from, _) = links.Receive(arrival, coordinator.Ref, step: 7, out var rejection)!.Value;  // told by no worker: the token says who
            Assert.Null(rejection);
            Assert.Equal(worker.Ref, from);
        }

        links.Remove(a.Ref);
        linkA.SendGradients(coordinator.Ref, new ComputeGradients(8, 3, 0, [1]), sum => { sum.Fill(1f); return 1.0; });
        using var stranger = Settings(sharedMemory: false).Open(length, _ => { }, _ => { });
        stranger.Send(links.Offer(b.Ref, Job).BulkEndpoint!, DistClip.Exchange.Bulk.BulkMessage.Of(new ShardGradients(8, 3, 1, 1, 0, new float[length]), tokenA ^ tokenB));
        coordinator.ExpectNoMsg(TimeSpan.FromSeconds(1));
        linkB.SendGradients(coordinator.Ref, new ComputeGradients(8, 3, 2, [1]), sum => { sum.Fill(2f); return 1.0; });
        Assert.Equal(b.Ref, links.Receive(coordinator.ExpectMsg<BulkArrival>(Wait), coordinator.Ref, step: 8, out _)!.Value.Worker);
    }

    [Fact]
    public void Should_fall_back_on_messages_when_the_workers_bulk_channel_refuses()
    {
        var (coordinator, worker, replica) = (CreateTestProbe(), CreateTestProbe(), Replica());
        var (links, link, kind) = Connect(coordinator, worker, replica, Settings(sharedMemory: false), Settings(sharedMemory: false),
            bulkEndpointOverride: $"127.0.0.1:{LoopbackPorts.Free()}");
        Assert.Equal(LinkKind.BulkChannel, kind);
        links.SendParameters(worker.Ref, 3, d => Ramp((int)replica.ExchangeLength, 0.01f).CopyTo(d));
        Assert.Equal(3L, link.Load(worker.ExpectMsg<ParameterUpdate>(Wait), replica, current: -1));  // whole, by Akka (a local probe)
    }

    [Fact]
    public void Should_fall_back_on_messages_when_the_coordinators_bulk_channel_refuses()
    {
        var (coordinator, worker, replica) = (CreateTestProbe(), CreateTestProbe(), Replica());
        int length = (int)replica.ExchangeLength;
        var offer = new JobOffer(Job, $"127.0.0.1:{LoopbackPorts.Free()}", 42, null);
        var link = Open(CoordinatorLink.Open(offer, Settings(sharedMemory: false), "worker-0", length, worker.Ref, _ => { }, _ => { }));
        var sent = Ramp(length, 0.5f);
        link.SendGradients(coordinator.Ref, new ComputeGradients(7, 3, 0, [1, 2]), sum => { sent.CopyTo(sum); return 2.0; });
        var whole = coordinator.ExpectMsg<ShardGradients>(Wait);
        Assert.Equal(sent, whole.GradientSum);
    }

    [Fact]
    public void Should_assemble_chunks_of_the_current_step_only()
    {
        var (coordinator, worker, replica) = (CreateTestProbe(), CreateTestProbe(), Replica());
        var links = Open(new WorkerLinks(null, (int)replica.ExchangeLength, coordinator.Ref, _ => { }, _ => { }));
        var gradients = new ShardGradients(7, 3, 1, 4, 0.5, Ramp((int)replica.ExchangeLength, 0.25f));
        var chunks = Chunking.Split(gradients, chunkElements: 8).ToList();
        Assert.True(chunks.Count > 1, "the model is too small to need several chunks");
        Assert.Null(links.Receive(chunks[0], worker.Ref, step: 7, out var stranger));   // not admitted yet: nothing is assembled
        Assert.Contains("not an admitted worker", stranger);
        links.Admit(worker.Ref, new RegisterWorker("worker-0", replica.Signature, "cpu"));
        for (int c = 0; c < chunks.Count - 1; c++) Assert.Null(links.Receive(chunks[c], worker.Ref, step: 7, out _));
        var (from, sum) = links.Receive(chunks[^1], worker.Ref, step: 7, out _)!.Value;
        Assert.Equal((worker.Ref, 1), (from, sum.Shard));
        Assert.Equal(gradients.GradientSum, sum.GradientSum.ToArray());
        Assert.Null(links.Receive(chunks[0], worker.Ref, step: 8, out var rejection));
        Assert.Contains("step 7 while step 8", rejection);

        var link = Open(CoordinatorLink.Open(links.Offer(worker.Ref, Job), null, "worker-0", (int)replica.ExchangeLength, worker.Ref, _ => { }, _ => { }));
        var update = new ParameterUpdate(5, Ramp((int)replica.ExchangeLength, 0.125f));
        var parameterChunks = Chunking.Split(update, chunkElements: 8).ToList();
        for (int c = 0; c < parameterChunks.Count - 1; c++) Assert.Null(link.Load(parameterChunks[c], replica, current: 4));
        Assert.Equal(5L, link.Load(parameterChunks[^1], replica, current: 4));
        Assert.Equal(update.Values, replica.ReadValues());
    }

    [Fact]
    public void Should_exchange_through_shared_memory_on_one_host_once_per_slot_and_step()
    {
        var (coordinator, worker, replica) = (CreateTestProbe(), CreateTestProbe(), Replica());
        var (links, link, kind) = Connect(coordinator, worker, replica, Settings(sharedMemory: true), Settings(sharedMemory: true));
        Assert.Equal(LinkKind.SharedMemory, kind);
        AssertParametersArrive<ParametersShared>(links, link, worker, replica);

        // A broadcast writes the segment and tells nobody: the next request's version is loaded from it.
        var next = Ramp((int)replica.ExchangeLength, 0.02f);
        links.Broadcast([worker.Ref], 4, d => next.CopyTo(d));
        worker.Ref.Tell("sentinel", Akka.Actor.ActorRefs.NoSender);   // the broadcast ran on this thread: whatever it told the worker is ahead of this
        worker.ExpectMsg("sentinel", Wait);
        Assert.True(link.TryLoad(4, replica));
        Assert.Equal(next, replica.ReadValues());

        var first = AssertGradientsArrive<ShardGradientsShared>(links, link, coordinator, worker, (int)replica.ExchangeLength, shard: 0);
        var second = AssertGradientsArrive<ShardGradientsShared>(links, link, coordinator, worker, (int)replica.ExchangeLength, shard: 1);  // the second slot
        var third = AssertGradientsArrive<BulkArrival>(links, link, coordinator, worker, (int)replica.ExchangeLength, shard: 2);  // every slot is taken: sent whole
        Assert.Equal(first.GradientSum.ToArray(), third.GradientSum.ToArray());
        Assert.Equal(second.GradientSum.ToArray(), third.GradientSum.ToArray());
    }
}
