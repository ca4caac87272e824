// A plain single-process TorchSharp training loop: the ground truth the distributed trainer must match.
using DistClip.Coordinator.Clipping;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// The textbook loop, written independently of DistClip's trainer: whole global batch, mean
/// cross-entropy, backward, TorchSharp's own <c>clip_grad_norm_</c>, SGD step. Batches are visited in
/// file order ([b·B, (b+1)·B), wrapping at the end of the data), as the trainer does with --no-shuffle.
/// </summary>
public static class ReferenceLoop
{
    /// <param name="perWorkerClipShards">
    /// When set, clips the gradient of each of that many shards separately and averages them (the
    /// classic bug): a foil proving that the tests can tell per-worker from global clipping.
    /// </param>
    /// <param name="equalShardWeightShards">
    /// When set, averages the mean gradients of that many shards with equal weights although the shards
    /// may be uneven (the other classic bug): a second foil.
    /// </param>
    /// <param name="policy">
    /// When set, the whole-batch gradient is clipped by DistClip's own <see cref="Clipper"/> instead of
    /// TorchSharp's <c>clip_grad_norm_</c> (for the policies PyTorch has no function for).
    /// </param>
    public static float[] Train(ModelSpec spec, int seed, IImageDataset data, int globalBatch, int steps,
        double lr, double momentum, double? maxNorm, double normType, int perWorkerClipShards = 0, ClipPolicy? policy = null, Augmenter? augmenter = null, int equalShardWeightShards = 0)
    {
        using var model = ModelZoo.Create(spec, seed);
        var parameters = model.parameters().ToArray();
        var clipper = policy is null ? null : new Clipper(policy, model.named_parameters().Select(p => p.name).ToArray());
        using var optimizer = optim.SGD(parameters, lr, momentum);
        int stepsPerEpoch = (data.Count + globalBatch - 1) / globalBatch;
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            int start = step % stepsPerEpoch * globalBatch;
            var indices = Enumerable.Range(start, Math.Min(globalBatch, data.Count - start)).ToArray();
            optimizer.zero_grad();
            if (perWorkerClipShards > 0) PerWorkerClippedGradient(model, data, indices, perWorkerClipShards, maxNorm!.Value, normType);
            else if (equalShardWeightShards > 0)
            {
                EqualWeightGradient(model, data, indices, equalShardWeightShards);
                if (maxNorm is double m) nn.utils.clip_grad_norm_(parameters, m, normType);
            }
            else
            {
                var (x, y) = data.Batch(indices);
                if (augmenter is not null) x = augmenter.Train(x, indices, step / stepsPerEpoch);  // the data pipeline, not under test
                var loss = data.Task == TaskKind.Regression ? nn.functional.mse_loss(model.forward(x), y) : nn.functional.cross_entropy(model.forward(x), y);
                loss.backward();
                if (clipper is not null) clipper.Apply(parameters.Select(p => p.grad!).ToArray(), parameters);
                else if (maxNorm is double m) nn.utils.clip_grad_norm_(parameters, m, normType);
            }
            optimizer.step();
        }
        return new FlatParameters(model).ReadValues();
    }

    private static void PerWorkerClippedGradient(nn.Module<Tensor, Tensor> model, IImageDataset data, int[] indices, int shards, double maxNorm, double normType) =>
        ShardwiseGradient(model, data, indices, shards, (output, y) => nn.functional.cross_entropy(output, y, reduction: nn.Reduction.Sum) / indices.Length,
            afterShard: parameters => nn.utils.clip_grad_norm_(parameters, maxNorm / shards, normType));

    private static void EqualWeightGradient(nn.Module<Tensor, Tensor> model, IImageDataset data, int[] indices, int shards) =>
        ShardwiseGradient(model, data, indices, shards, (output, y) => nn.functional.cross_entropy(output, y) / shards);  // each shard's mean, weighted 1/N

    /// <summary>The foils' gradient: each of <paramref name="shards"/> shards backpropagates its loss, may be clipped alone, and the shard gradients are added.</summary>
    private static void ShardwiseGradient(nn.Module<Tensor, Tensor> model, IImageDataset data, int[] indices, int shards,
        Func<Tensor, Tensor, Tensor> shardLoss, Action<TorchSharp.Modules.Parameter[]>? afterShard = null)
    {
        var parameters = model.parameters().ToArray();
        var total = parameters.Select(p => zeros_like(p)).ToArray();
        int per = (indices.Length + shards - 1) / shards;
        foreach (var shard in indices.Chunk(per))
        {
            model.zero_grad();
            var (x, y) = data.Batch(shard);
            shardLoss(model.forward(x), y).backward();
            afterShard?.Invoke(parameters);
            for (int i = 0; i < parameters.Length; i++) total[i].add_(parameters[i].grad!);
        }
        for (int i = 0; i < parameters.Length; i++) parameters[i].grad!.copy_(total[i]);
    }
}
