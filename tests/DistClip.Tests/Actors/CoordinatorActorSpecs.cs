// The coordinator's routing with probe workers: admission, refusal, re-planning on loss, dropping strays.
using Akka.Actor;
using Akka.TestKit;
using DistClip.Coordinator;
using DistClip.Coordinator.Clipping;
using DistClip.Coordinator.Optimization;
using DistClip.Coordinator.Steps;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Actors;

public class CoordinatorActorSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly ModelSpec Spec = new("mlp", 1, 2, 2, 2, Hidden: 3);

    private sealed class NullObserver : ITrainingObserver { public void OnStep(StepReport report) { } }

    private (IActorRef Coordinator, MasterWeights Master, TaskCompletionSource<TrainingSummary> Done) StartCoordinator(long steps, int minWorkers, double stepTimeout = 120,
        JoinSecret? secret = null)
    {
        var master = new MasterWeights(ModelZoo.Create(Spec, 1), new OptimizerSettings(), new ScheduleSettings("constant"), steps, ClipPolicy.None, NonFinitePolicy.Skip);
        var done = new TaskCompletionSource<TrainingSummary>();
        var job = new JobSpec(Spec, "synthetic", 0, null, 256);
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(job, master, new BatchOrder(8, 4, false, 0), new CoordinatorPlan(steps, minWorkers, StepTimeoutSeconds: stepTimeout), new NullObserver(), done, secret: secret));
        return (coordinator, master, done);
    }

    private static void Register(TestProbe probe, IActorRef coordinator, ModelSignature signature)
    {
        probe.Send(coordinator, new JoinRequest(probe.Ref.Path.Name, "cpu", ProtocolVersion.Current));
        Assert.Equal(Spec, probe.ExpectMsg<JobOffer>(Wait).Job.Model);
        probe.Send(coordinator, new RegisterWorker(probe.Ref.Path.Name, signature, "cpu"));
    }

    /// <summary>Admission: the version, then the parameters at that version.</summary>
    private static long ExpectAdmission(TestProbe probe)
    {
        long version = probe.ExpectMsg<WorkerAdmitted>(Wait).Version;
        Assert.Equal(version, probe.ExpectMsg<ParameterUpdate>(Wait).Version);
        return version;
    }

    private static ShardGradients Answer(ComputeGradients request, long elements) =>
        new(request.Step, request.Version, request.Shard, request.SampleIndices.Length, request.SampleIndices.Length, new float[elements]);

    [Fact]
    public async Task Should_ask_again_for_a_shard_whose_result_was_lost()
    {
        var (coordinator, master, done) = StartCoordinator(1, 1, stepTimeout: 0.3);
        var probe = CreateTestProbe();
        Register(probe, coordinator, master.Signature);
        ExpectAdmission(probe);
        var lost = probe.ExpectMsg<ComputeGradients>(Wait);   // its answer "gets lost"
        var again = probe.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((lost.Step, lost.Shard), (again.Step, again.Shard));
        probe.Reply(Answer(again, master.ExchangeLength));
        Assert.Equal(1, (await done.Task.WaitAsync(Wait)).Steps);
    }

    [Fact]
    public void Should_refuse_a_worker_of_another_protocol_version()
    {
        var (coordinator, _, _) = StartCoordinator(1, 1);
        var probe = CreateTestProbe();
        probe.Send(coordinator, new JoinRequest("old", "cpu", ProtocolVersion.Current - 1));
        Assert.Contains("protocol mismatch", probe.ExpectMsg<WorkerRefused>(Wait).Reason);
    }

    [Fact]
    public void Should_refuse_a_worker_whose_model_differs()
    {
        var (coordinator, _, _) = StartCoordinator(1, 1);
        using var other = ModelZoo.Create(Spec with { Hidden = 4 }, 1);
        var probe = CreateTestProbe();
        Register(probe, coordinator, new FlatParameters(other).Signature);
        var refused = probe.ExpectMsg<WorkerRefused>(Wait);
        Assert.Contains("model mismatch", refused.Reason);
        Assert.Contains("fc1.weight:4x4", refused.Reason);
    }

    [Fact]
    public async Task Should_reassign_a_lost_workers_shard_drop_strays_and_admit_joiners_at_the_next_step()
    {
        var (coordinator, master, done) = StartCoordinator(3, 2);
        var signature = master.Signature;
        long n = master.ExchangeLength;
        var (p1, p2, p3, stranger) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        Register(p1, coordinator, signature);
        Assert.Equal(0, ExpectAdmission(p1));
        Register(p2, coordinator, signature);
        ExpectAdmission(p2);

        // Step 0: two shards of two samples; p2 dies before answering.
        var s0 = p1.ExpectMsg<ComputeGradients>(Wait);
        var s1 = p2.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((0L, 0, 1), (s0.Step, s0.Shard, s1.Shard));
        Assert.Equal([0, 1, 2, 3], s0.SampleIndices.Concat(s1.SampleIndices));
        p1.Reply(Answer(s0, n));
        Watch(p2.Ref);
        Sys.Stop(p2.Ref);
        ExpectTerminated(p2.Ref, Wait);
        var reassigned = p1.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((0L, 1), (reassigned.Step, reassigned.Shard));
        Assert.Equal(s1.SampleIndices, reassigned.SampleIndices);
        stranger.Send(coordinator, Answer(reassigned, n));   // not a registered worker: dropped
        p1.Reply(Answer(reassigned, n));

        // Step 1: p1 alone computes both shards (the shard count is the run's, not the workers'); a joiner is
        // admitted now but computes only from step 2.
        Assert.Equal(1, p1.ExpectMsg<ParameterUpdate>(Wait).Version);
        var step1 = p1.ExpectMsg<ComputeGradients>(Wait);
        var step1b = p1.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((1L, 1L, 0, 1, 2, 2), (step1.Step, step1.Version, step1.Shard, step1b.Shard, step1.SampleIndices.Length, step1b.SampleIndices.Length));
        Register(p3, coordinator, signature);
        Assert.Equal(1, ExpectAdmission(p3));
        p3.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        p1.Reply(Answer(s0, n));                             // stale (step 0): dropped
        p1.Reply(Answer(step1, n) with { GradientSum = new float[n + 1] });  // wrong length: dropped
        p1.Reply(Answer(step1, n));
        p1.Reply(Answer(step1b, n));

        // Step 2: both.
        p1.ExpectMsg<ParameterUpdate>(Wait);
        p3.ExpectMsg<ParameterUpdate>(Wait);
        var a = p1.ExpectMsg<ComputeGradients>(Wait);
        var b = p3.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((2L, 0, 1), (a.Step, a.Shard, b.Shard));
        p3.Reply(Answer(b, n));
        p1.Reply(Answer(a, n));

        var summary = await done.Task.WaitAsync(Wait);
        p1.ExpectMsg<ParameterUpdate>(Wait);
        p1.ExpectMsg<TrainingFinished>(Wait);
        p3.ExpectMsg<ParameterUpdate>(Wait);
        p3.ExpectMsg<TrainingFinished>(Wait);
        Assert.Equal(3, summary.Steps);
        Assert.Equal(12, summary.Samples);
    }

    [Fact]
    public void Should_refuse_a_second_registration_under_a_name_in_use()
    {
        var (coordinator, master, _) = StartCoordinator(10, 2);
        var (real, impostor) = (CreateTestProbe(), CreateTestProbe());
        Register(real, coordinator, master.Signature);
        ExpectAdmission(real);

        impostor.Send(coordinator, new JoinRequest("impostor", "cpu", ProtocolVersion.Current));
        impostor.ExpectMsg<JobOffer>(Wait);
        impostor.Send(coordinator, new RegisterWorker(real.Ref.Path.Name, master.Signature, "cpu"));  // the real worker's name

        Assert.Contains($"a worker named {real.Ref.Path.Name} is registered already", impostor.ExpectMsg<WorkerRefused>(Wait).Reason);
        impostor.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    /// <summary>
    /// With a join secret, nothing about the run — no job offer, no token, no parameters — leaves the coordinator
    /// before a worker has proved the secret: not to a wrong proof, not to a replayed one, not to a registration that
    /// skips the challenge.
    /// </summary>
    [Fact]
    public void Should_tell_nothing_of_the_run_before_the_join_secret_is_proved()
    {
        var secret = new JoinSecret("the cluster's own secret, 32 b."u8.ToArray());
        var (coordinator, master, _) = StartCoordinator(10, 2, secret: secret);
        var (worker, guesser, skipper) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        guesser.Send(coordinator, new JoinRequest("guesser", "cpu", ProtocolVersion.Current));
        var guess = guesser.ExpectMsg<JoinChallenge>(Wait);
        guesser.Reply(new JoinProof("guesser", new JoinSecret(new byte[32]).Proof(guess.Nonce, "guesser", guesser.Ref.Path.ToString())));
        Assert.Contains("does not know the cluster's join secret", guesser.ExpectMsg<WorkerRefused>(Wait).Reason);

        skipper.Send(coordinator, new RegisterWorker("skipper", master.Signature, "cpu"));
        Assert.Contains("join secret", skipper.ExpectMsg<WorkerRefused>(Wait).Reason);

        byte[] workerNonce = [7, 7, 7];
        worker.Send(coordinator, new JoinRequest("worker", "cpu", ProtocolVersion.Current, workerNonce));
        var challenge = worker.ExpectMsg<JoinChallenge>(Wait);
        // A proof relayed from another actor (an intruder that challenged a real worker) does not verify: it is bound
        // to the address of the worker that made it.
        var relay = CreateTestProbe();
        relay.Send(coordinator, new JoinRequest("worker", "cpu", ProtocolVersion.Current));
        var relayed = relay.ExpectMsg<JoinChallenge>(Wait);
        relay.Reply(new JoinProof("worker", secret.Proof(relayed.Nonce, "worker", worker.Ref.Path.ToString())));
        Assert.Contains("does not know the cluster's join secret", relay.ExpectMsg<WorkerRefused>(Wait).Reason);

        var proof = new JoinProof("worker", secret.Proof(challenge.Nonce, "worker", worker.Ref.Path.ToString()));
        worker.Reply(proof);
        var offer = worker.ExpectMsg<JobOffer>(Wait);
        Assert.Equal(Spec, offer.Job.Model);
        Assert.True(secret.Verifies(workerNonce, JoinSecret.CoordinatorName, coordinator.Path.ToString(), offer.CoordinatorProof!),
            "the offer does not prove the secret over the worker's nonce");
        worker.Reply(proof);   // a proof is good for its nonce once: the answer is a new challenge, nothing about the run
        worker.ExpectMsg<JoinChallenge>(Wait);
        worker.Send(coordinator, new RegisterWorker("another-name", master.Signature, "cpu"));   // not the name it proved
        Assert.Contains("under the name proved", worker.ExpectMsg<WorkerRefused>(Wait).Reason);
        worker.Send(coordinator, new RegisterWorker("worker", master.Signature, "cpu"));
        ExpectAdmission(worker);

        guesser.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        skipper.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        relay.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
