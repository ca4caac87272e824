// A real worker actor with a join secret, driven by probes that play a coordinator — or pose as one.
using Akka.Actor;
using DistClip.Protocol;
using DistClip.Worker;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Actors;

/// <summary>
/// With a join secret a worker proves it to whoever challenges it (the proof is bound to the worker's address, so it
/// is worth nothing to anyone else), but takes a job only from a coordinator that proves the secret in turn over the
/// worker's own nonce, and then listens to that coordinator alone.
/// </summary>
public sealed class WorkerJoinSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly ModelSpec Spec = new("mlp", 1, 28, 28, 10, Hidden: 16);
    private static readonly JoinSecret Secret = new("the cluster's own secret, 32 b."u8.ToArray());

    [Fact]
    public void Should_take_a_job_only_from_a_coordinator_that_proves_the_secret_and_then_listen_to_it_alone()
    {
        var data = TestData.Synthetic(40);
        var worker = Sys.ActorOf(WorkerActor.Props(TestActor, new WorkerSettings("worker-0", "cpu", 1, Secret: Secret), _ => data)
            .WithDispatcher(AkkaDefaults.WorkerDispatcher));
        var request = ExpectMsg<JoinRequest>(Wait);
        Assert.NotNull(request.Nonce);
        var offer = new JobOffer(new JobSpec(Spec, "synthetic", 0, null, 256));

        // An impostor: it challenges the worker (and gets a proof bound to the worker's address), then offers a job
        // without proving the secret itself, or with a proof made for another address.
        var impostor = CreateTestProbe();
        impostor.Send(worker, new JoinChallenge([1, 2, 3]));
        impostor.ExpectMsg<JoinProof>(Wait);
        impostor.Send(worker, offer);
        impostor.Send(worker, offer with { CoordinatorProof = Secret.Proof(request.Nonce!, JoinSecret.CoordinatorName, TestActor.Path.ToString()) });
        // No registration, no job taken: a challenge it answers at once is answered next (a registration would come first).
        impostor.Send(worker, new JoinChallenge([7, 8, 9]));
        impostor.ExpectMsg<JoinProof>(Wait);

        // The coordinator: it challenges, and its offer proves the secret over the worker's nonce from its own address.
        worker.Tell(new JoinChallenge([4, 5, 6]), TestActor);
        var proof = ExpectMsg<JoinProof>(Wait);
        Assert.True(Secret.Verifies([4, 5, 6], "worker-0", worker.Path.ToString(), proof.Mac));
        worker.Tell(offer with { CoordinatorProof = Secret.Proof(request.Nonce!, JoinSecret.CoordinatorName, TestActor.Path.ToString()) }, TestActor);
        Assert.Equal("worker-0", ExpectMsg<RegisterWorker>(Wait).WorkerName);

        // Serving: a stranger's "the job is over" or "you are refused" changes nothing.
        impostor.Send(worker, new TrainingFinished(1));
        impostor.Send(worker, new WorkerRefused("go away"));
        worker.Tell(new WorkerAdmitted(0), TestActor);
        worker.Tell(new ComputeGradients(0, 5, 0, [0, 1]), TestActor);    // a version it does not hold: answered, so it still serves
        Assert.Contains("version", ExpectMsg<ShardRefused>(Wait).Reason);
        Sys.Stop(worker);
    }
}
