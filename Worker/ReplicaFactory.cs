// A sharded job's replica on a worker, from the plain values of its ReplicaSpec.
using DistClip.Protocol;
using DistClip.Training.Clipping;
using DistClip.Training.Optimization;
using DistClip.Training.State;
using static TorchSharp.torch;

namespace DistClip.Worker;

/// <summary>Turns a <see cref="ReplicaSpec"/> back into the settings it was made of, and builds the replica a sharded job's worker steps.</summary>
public static class ReplicaFactory
{
    public static ModelReplica Create(nn.Module<Tensor, Tensor> model, ReplicaSpec spec) =>
        new(model, Optimizer(spec), Schedule(spec), spec.TotalSteps, ClipPolicy.Parse(spec.Clip), spec.EmaDecay);

    public static OptimizerSettings Optimizer(ReplicaSpec s) => new(s.Optimizer, s.LearningRate, s.Momentum, s.Nesterov, s.WeightDecay);

    public static ScheduleSettings Schedule(ReplicaSpec s) => new(s.Schedule, s.WarmupSteps, s.StepSize, s.Gamma, s.MinLearningRate);

    /// <summary>The spec of a run's replica: what <see cref="Create"/> builds again on a worker.</summary>
    public static ReplicaSpec SpecOf(OptimizerSettings o, ScheduleSettings s, long totalSteps, ClipPolicy clip, double? emaDecay) =>
        new(o.Name, o.LearningRate, o.Momentum, o.Nesterov, o.WeightDecay, s.Kind, s.WarmupSteps, s.StepSize, s.Gamma, s.MinLearningRate,
            totalSteps, clip.ToString(), emaDecay);
}
