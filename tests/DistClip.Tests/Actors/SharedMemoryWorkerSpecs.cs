// A real worker actor on the shared-memory data plane, driven by a probe that plays the coordinator.
using Akka.Actor;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Exchange;
using DistClip.Worker;
using Xunit;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Actors;

public sealed class SharedMemoryWorkerSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly ModelSpec Spec = new("mlp", 1, 28, 28, 10, Hidden: 16);
    private const long Token = 0x7e57;
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-shm-worker-").FullName;  // the segments' folder

    /// <summary>
    /// Joins a worker to a probe coordinator that offers shared memory; returns the worker, the probe's
    /// segments and a replica holding the parameters the probe published (version 0).
    /// </summary>
    private (IActorRef Worker, SharedMemoryPeers<IActorRef> Peers, FlatParameters Master) Join(nn.Module<Tensor, Tensor> master)
    {
        var flat = new FlatParameters(master);
        var peers = new SharedMemoryPeers<IActorRef>(_dir, Token, (int)flat.ExchangeLength);
        var data = TestData.Synthetic(40);
        var worker = Sys.ActorOf(WorkerActor.Props(TestActor, new WorkerSettings("worker-0", "cpu", 1), _ => data,
            new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, _dir)).WithDispatcher(AkkaDefaults.WorkerDispatcher));
        ExpectMsg<JoinRequest>(Wait);
        worker.Tell(new JobOffer(new JobSpec(Spec, "synthetic", 0, null, 256), null, 0, peers.ParametersPath, SharedMemoryToken: Token));
        var register = ExpectMsg<RegisterWorker>(Wait);
        Assert.NotNull(register.SharedMemoryPath);
        Assert.True(peers.TryAdd(worker, register.SharedMemoryPath!, register.SharedMemorySlots, out var why), why);
        worker.Tell(new WorkerAdmitted(0, SharedMemory: true));
        peers.PublishParameters(0, flat.ReadValues);
        worker.Tell(new ParametersShared(0));
        return (worker, peers, flat);
    }

    [Fact]
    public void Should_put_a_result_per_slot_and_step_in_shared_memory_and_send_a_shard_beyond_them_whole()
    {
        using var model = ModelZoo.Create(Spec, seed: 5);
        var (worker, peers, master) = Join(model);
        try
        {
            worker.Tell(new ComputeGradients(0, 0, 0, [0, 1, 2, 3]));
            var first = ExpectMsg<ShardGradientsShared>(Wait);
            Assert.Equal((0L, 0, 4), (first.Step, first.Shard, first.SampleCount));
            var inPlace = peers.Read(worker, first, out var rejection);
            Assert.Null(rejection);
            var shard0 = inPlace!.Value.GradientSum.ToArray();
            Assert.Contains(shard0, g => g != 0);

            // The same step, a second shard (as after a re-assignment) goes to the second slot, and a third, beyond the
            // slots, travels whole: shard 0's result must stay readable throughout.
            worker.Tell(new ComputeGradients(0, 0, 1, [4, 5, 6]));
            var second = ExpectMsg<ShardGradientsShared>(Wait);
            Assert.Equal((0L, 1, 3, 1), (second.Step, second.Shard, second.SampleCount, second.Slot));
            var shard1 = peers.Read(worker, second, out rejection)!.Value.GradientSum.ToArray();
            worker.Tell(new ComputeGradients(0, 0, 2, [7, 8]));
            var third = ExpectMsg<ShardGradients>(Wait);
            Assert.Equal((0L, 2, 2), (third.Step, third.Shard, third.SampleCount));
            Assert.Equal(shard0, inPlace.Value.GradientSum.ToArray());
            Assert.NotEqual(shard0, shard1);
            Assert.NotEqual(shard0, third.GradientSum);

            // The next step: new parameters through the segment, named only by the request's version.
            using (no_grad()) foreach (var p in master.Parameters) p.mul_(0.5f);
            peers.PublishParameters(1, master.ReadValues);
            worker.Tell(new ComputeGradients(1, 1, 0, [0, 1, 2, 3]));
            var next = ExpectMsg<ShardGradientsShared>(Wait);
            Assert.Equal((1L, 1L), (next.Step, next.Version));
            Assert.NotEqual(shard0, peers.Read(worker, next, out _)!.Value.GradientSum.ToArray());  // other parameters, other gradient

            worker.Tell(new ComputeGradients(2, 7, 0, [0]));  // a version the segment does not hold
            Assert.Contains("version 1", ExpectMsg<ShardRefused>(Wait).Reason);
        }
        finally
        {
            Sys.Stop(worker);
            peers.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }
}
