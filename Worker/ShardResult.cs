// One shard's gradient sum, in canonical flat order.
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Protocol;
using static TorchSharp.torch;

namespace DistClip.Worker;

/// <summary>The gradient sum over one shard, in canonical flat order.</summary>
public sealed record ShardResult(int SampleCount, double LossSum, float[] GradientSum);
