// The coordinator's routing with probe workers: admission, refusal, re-planning on loss, dropping strays.
using Akka.Actor;
using Akka.TestKit;
using DistClip.Coordinator;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Coordinator.Steps;
using DistClip.Models.Zoo;
using DistClip.Protocol;
using Xunit;
using DistClip.Core;
using DistClip.Exchange;
using DistClip.Exchange.Bulk;

namespace DistClip.Tests.Actors;

public class CoordinatorActorSpecs() : Akka.TestKit.Xunit2.TestKit(AkkaDefaults.Hocon)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly ModelSpec Spec = new("mlp", 1, 2, 2, 2, Hidden: 3);

    private sealed class NullObserver : ITrainingObserver { public void OnStep(StepReport report) { } }

    private static MasterWeights NewMaster(long steps) =>
        new(ModelZoo.Create(Spec, 1), new OptimizerSettings(), new ScheduleSettings("constant"), steps, ClipPolicy.None, NonFinitePolicy.Skip);

    private (IActorRef Coordinator, MasterWeights Master, TaskCompletionSource<TrainingSummary> Done) StartCoordinator(long steps, int minWorkers, double stepTimeout = 120,
        JoinSecret? secret = null)
    {
        var master = NewMaster(steps);
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

    /// <summary>Admission: the version, then the parameters at that version (those of <paramref name="reference"/> when given).</summary>
    private static long ExpectAdmission(TestProbe probe, MasterWeights? reference = null)
    {
        long version = probe.ExpectMsg<WorkerAdmitted>(Wait).Version;
        var update = probe.ExpectMsg<ParameterUpdate>(Wait);
        Assert.Equal(version, update.Version);
        if (reference is not null) AssertSameBits(reference, update);
        return version;
    }

    /// <summary>
    /// Nothing more has come to <paramref name="probe"/> from the coordinator: a request it refuses at once (of another
    /// protocol version) is answered next. Messages between two actors keep their order, so anything the coordinator had
    /// sent it before would come first; no wait decides it.
    /// </summary>
    private static void ExpectNothingBeforeASentinel(TestProbe probe, IActorRef coordinator)
    {
        probe.Send(coordinator, new JoinRequest("sentinel", "cpu", ProtocolVersion.Current - 1));
        var next = probe.ExpectMsg<object>(Wait);
        Assert.True(next is WorkerRefused refused && refused.Reason.Contains("worker sentinel speaks"), $"{next} came before the sentinel's refusal");
    }

    /// <summary>The parameters a worker was sent are <paramref name="reference"/>'s, at its version, bit for bit.</summary>
    private static void AssertSameBits(MasterWeights reference, ParameterUpdate update)
    {
        var expected = reference.Snapshot();
        Assert.Equal(expected.Version, update.Version);
        Assert.Equal(expected.Values.Select(BitConverter.SingleToInt32Bits), update.Values.Select(BitConverter.SingleToInt32Bits));
    }

    /// <summary>
    /// A gradient sum that differs by step, shard and <paramref name="salt"/> (a stray's, a stale one's) in every element, so
    /// that a sum that drops, doubles or mixes in a shard moves the weights elsewhere. Small multiples of 1/64: every sum and
    /// mean below is exact in float32, whatever the order of the additions.
    /// </summary>
    private static float[] Gradient(long step, int shard, long elements, int salt = 0) =>
        Enumerable.Range(0, (int)elements).Select(i => (i % 7 - 3 + 8 * shard + 16 * step + 1000 * salt) / 64f).ToArray();

    private static ShardGradients Answer(ComputeGradients request, long elements, int salt = 0) =>
        new(request.Step, request.Version, request.Shard, request.SampleIndices.Length, request.SampleIndices.Length,
            Gradient(request.Step, request.Shard, elements, salt));

    /// <summary>Steps <paramref name="reference"/> as the coordinator should: the mean of shards 0 and 1 of <paramref name="step"/> over <paramref name="samples"/>.</summary>
    private static void ApplyTwoShards(MasterWeights reference, long step, int samples)
    {
        long n = reference.ExchangeLength;
        var (a, b) = (Gradient(step, 0, n), Gradient(step, 1, n));
        reference.Apply(step, a.Zip(b, (x, y) => (x + y) / samples).ToArray());
    }

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
        using var reference = NewMaster(3);   // stepped here as the coordinator should step its own: every broadcast must match it
        var signature = master.Signature;
        long n = master.ExchangeLength;
        var (p1, p2, p3, stranger) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());

        Register(p1, coordinator, signature);
        Assert.Equal(0, ExpectAdmission(p1, reference));
        Register(p2, coordinator, signature);
        ExpectAdmission(p2, reference);

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
        stranger.Send(coordinator, Answer(reassigned, n, salt: 1));   // not a registered worker: dropped
        p1.Reply(Answer(reassigned, n));
        ApplyTwoShards(reference, 0, 4);

        // Step 1: p1 alone computes both shards (the shard count is the run's, not the workers'); a joiner is
        // admitted now but computes only from step 2.
        AssertSameBits(reference, p1.ExpectMsg<ParameterUpdate>(Wait));
        var step1 = p1.ExpectMsg<ComputeGradients>(Wait);
        var step1b = p1.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((1L, 1L, 0, 1, 2, 2), (step1.Step, step1.Version, step1.Shard, step1b.Shard, step1.SampleIndices.Length, step1b.SampleIndices.Length));
        Register(p3, coordinator, signature);
        Assert.Equal(1, ExpectAdmission(p3, reference));   // and no shard of step 1: its next message is step 2's parameters, below
        p1.Reply(Answer(s0, n, salt: 2));                    // stale (step 0): dropped
        p1.Reply(Answer(step1, n) with { GradientSum = new float[n + 1] });  // wrong length: dropped
        p1.Reply(Answer(step1, n));
        p1.Reply(Answer(step1b, n));
        ApplyTwoShards(reference, 1, 4);

        // Step 2: both.
        AssertSameBits(reference, p1.ExpectMsg<ParameterUpdate>(Wait));
        AssertSameBits(reference, p3.ExpectMsg<ParameterUpdate>(Wait));
        var a = p1.ExpectMsg<ComputeGradients>(Wait);
        var b = p3.ExpectMsg<ComputeGradients>(Wait);
        Assert.Equal((2L, 0, 1), (a.Step, a.Shard, b.Shard));
        p3.Reply(Answer(b, n));
        p1.Reply(Answer(a, n));
        ApplyTwoShards(reference, 2, 4);

        var summary = await done.Task.WaitAsync(Wait);
        AssertSameBits(reference, p1.ExpectMsg<ParameterUpdate>(Wait));
        p1.ExpectMsg<TrainingFinished>(Wait);
        AssertSameBits(reference, p3.ExpectMsg<ParameterUpdate>(Wait));
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
        ExpectNothingBeforeASentinel(impostor, coordinator);
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

        foreach (var refused in new[] { guesser, skipper, relay }) ExpectNothingBeforeASentinel(refused, coordinator);
    }

    /// <summary>Holds the coordinator in its report of every step until the test lets it go (or a minute has passed).</summary>
    private sealed class HeldObserver : ITrainingObserver
    {
        public SemaphoreSlim Go { get; } = new(0);
        public void OnStep(StepReport report) => Go.Wait(TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// The sharded exchange: once the decision of a step is out, the next step is planned before the coordinator steps its
    /// own replica and records the step, so that the workers, which step theirs on the decision, never wait for it. Seen
    /// from a probe worker while the coordinator is held in its report of step 0: step 1 has been asked for already.
    /// </summary>
    [Fact]
    public void Should_plan_the_next_sharded_step_before_it_steps_its_own_replica()
    {
        var master = NewMaster(3);
        var job = new JobSpec(Spec, "synthetic", 0, null, 256,
            Sharded: new ReplicaSpec("sgd", 0.1, 0, false, 0, "constant", 0, 1, 1, 0, 3, "none"));
        var observer = new HeldObserver();
        var coordinator = Sys.ActorOf(CoordinatorActor.Props(job, master, new BatchOrder(8, 4, false, 0), new CoordinatorPlan(3, 1, Shards: 2), observer,
            new TaskCompletionSource<TrainingSummary>()));
        long elements = master.ExchangeLength;
        var worker = CreateTestProbe();
        Register(worker, coordinator, master.Signature);
        worker.ExpectMsg<WorkerAdmitted>(Wait);
        worker.ExpectMsg<ReplicaStateChunk>(Wait);
        var plan = worker.ExpectMsg<StepRanges>(Wait);
        foreach (var request in new[] { worker.ExpectMsg<ComputeGradients>(Wait), worker.ExpectMsg<ComputeGradients>(Wait) })
            worker.Reply(new ShardComputed(request.Step, plan.Plan, request.Shard, request.SampleIndices.Length, 1.0, Finite: true));
        worker.Reply(new BulkArrival(new BulkMessage(BulkKind.ReducedRange, 0, plan.Step, plan.Version, 0, 0, 0, Gradient(0, 0, elements))
            { Offset = 0, Plan = plan.Plan }));
        try
        {
            Assert.Equal(0, worker.ExpectMsg<ClipDecided>(Wait).Step);
            var next = worker.ExpectMsg<StepRanges>(Wait);   // while the coordinator is still in its report of step 0
            Assert.Equal((1L, plan.Version + 1), (next.Step, next.Version));
            Assert.Equal(1, worker.ExpectMsg<ComputeGradients>(Wait).Step);
        }
        finally { observer.Go.Release(3); }
    }
}
