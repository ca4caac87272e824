// A real worker actor on the bulk channel, driven by a probe that plays the coordinator: a request that outruns its parameters waits for them.
using System.Collections.Concurrent;
using Akka.Actor;
using DistClip.Core;
using DistClip.Exchange;
using DistClip.Exchange.Bulk;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using DistClip.Worker;
using Xunit;

namespace DistClip.Tests.Actors;

public sealed class BulkWorkerSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly ModelSpec Spec = new("mlp", 1, 28, 28, 10, Hidden: 16);
    private const long Token = 0x7e57;

    /// <summary>
    /// Parameters travel on the bulk channel, the request through Akka.Remote: the request may come first. The worker
    /// waits for them instead of refusing the shard (which cost a parameter resend and a round trip, often under TLS), and
    /// refuses only when they have not come within <see cref="WorkerActor.ParametersGrace"/>; a request asked again while it
    /// waits is served once.
    /// </summary>
    [Fact]
    public void Should_wait_for_parameters_that_trail_the_request_and_refuse_only_when_they_do_not_come()
    {
        using var model = ModelZoo.Create(Spec, seed: 5);
        var master = new FlatParameters(model);
        var arrivals = new BlockingCollection<BulkMessage>();
        var exchange = new ExchangeSettings("127.0.0.1", "127.0.0.1", 0, SharedMemoryDirectory: null);
        using var coordinatorEnd = exchange.Open((int)master.ExchangeLength, arrivals.Add, _ => { });
        var data = TestData.Synthetic(40);
        var worker = Sys.ActorOf(WorkerActor.Props(TestActor, new WorkerSettings("worker-0", "cpu", 1), _ => data, exchange)
            .WithDispatcher(AkkaDefaults.WorkerDispatcher));
        ExpectMsg<JoinRequest>(Wait);
        worker.Tell(new JobOffer(new JobSpec(Spec, "synthetic", 0, null, 256), coordinatorEnd.Endpoint, Token));
        var register = ExpectMsg<RegisterWorker>(Wait);
        worker.Tell(new WorkerAdmitted(0, SharedMemory: false));

        worker.Tell(new ComputeGradients(0, 0, 0, [0, 1, 2, 3]));   // before the parameters of version 0
        // no refusal: it waits (the next message it sends here is step 1's refusal, below)
        worker.Tell(new ComputeGradients(0, 0, 0, [0, 1, 2, 3]));   // asked again (the coordinator's deadline), a copy as from the wire
        coordinatorEnd.Send(register.BulkEndpoint!, BulkMessage.Of(new ParameterUpdate(0, master.ReadValues()), Token));
        Assert.True(arrivals.TryTake(out var gradients, Wait), "the waiting request was not served once its parameters came");
        Assert.Equal((BulkKind.Gradients, 0L, 0, 4), (gradients!.Kind, gradients.Step, gradients.Shard, gradients.SampleCount));
        Assert.Contains(gradients.Values, g => g != 0);
        // A sentinel on the same connection: a request computed twice would have arrived before this one's answer.
        worker.Tell(new ComputeGradients(0, 0, 1, [4, 5]));
        Assert.True(arrivals.TryTake(out var next, Wait), "the sentinel shard was not served");
        Assert.True(next!.Shard == 1, $"shard {next.Shard} of step {next.Step} came before the sentinel: a request asked again while it waited was computed twice");

        worker.Tell(new ComputeGradients(1, 1, 0, [0]));              // parameters of version 1 never come
        var refused = ExpectMsg<ShardRefused>(WorkerActor.ParametersGrace + Wait);
        Assert.Equal(1, refused.Step);
        Assert.Contains("holds parameter version 0, the step needs 1", refused.Reason);
    }
}
