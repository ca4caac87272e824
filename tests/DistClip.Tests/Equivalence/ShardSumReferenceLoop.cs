// The exact reference: one process that forms every step's gradient exactly as DistClip's plan defines it.
using DistClip.Training.Clipping;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// A plain single-process TorchSharp loop, written independently of DistClip's trainer, that computes
/// for every global batch what DistClip claims to compute: the batch split into <c>shards</c>
/// contiguous shards (the first B mod S one sample longer), each shard's gradient <em>sum</em> formed in
/// micro-batches of <c>microBatch</c> samples (the task's loss summed over samples, gradients accumulating
/// in <c>.grad</c>), the shard sums added in shard order, divided once by the batch size, clipped (by
/// TorchSharp's own <c>clip_grad_norm_</c> for a global-norm policy), one SGD step. Every operation is
/// one DistClip performs, on the same processor with the same thread count, so DistClip must equal it
/// bit for bit on any machine: the processor has no room to make them differ.
/// </summary>
public static class ShardSumReferenceLoop
{
    /// <param name="clip">A global-norm policy is applied with TorchSharp's <c>clip_grad_norm_</c>; any other
    /// with DistClip's <see cref="Clipper"/> (PyTorch has no function for them).</param>
    /// <param name="batchOf">The sample indices of a step; default: file order, [b·B, (b+1)·B) of each epoch.</param>
    /// <param name="threads">Intra-op threads, as each DistClip worker and the coordinator use (their --threads).</param>
    public static float[] Train(ModelSpec spec, int seed, IImageDataset data, int globalBatch, int steps, int shards, int microBatch,
        double lr, double momentum, ClipPolicy clip, Augmenter? augmenter = null, Func<int, int[]>? batchOf = null, int threads = 1)
    {
        set_num_threads(threads);
        using var model = ModelZoo.Create(spec, seed);
        var parameters = model.parameters().ToArray();
        var clipper = clip is ClipPolicy.GlobalNorm ? null : new Clipper(clip, model.named_parameters().Select(p => p.name).ToArray());
        using var optimizer = optim.SGD(parameters, lr, momentum);
        int stepsPerEpoch = (data.Count + globalBatch - 1) / globalBatch;
        batchOf ??= step => FileOrder(data.Count, globalBatch, step % stepsPerEpoch);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var batch = batchOf(step);
            Tensor[]? sum = null;
            foreach (var shard in ContiguousShards(batch, shards).Where(s => s.Length > 0))  // an empty shard adds nothing
            {
                var shardSum = GradientSum(model, data, shard, microBatch, augmenter, step / stepsPerEpoch);
                if (sum is null) sum = shardSum;
                else for (int i = 0; i < sum.Length; i++) sum[i].add_(shardSum[i]);   // in shard order
            }
            using (no_grad())
                for (int i = 0; i < parameters.Length; i++) parameters[i].grad!.copy_(sum![i].div_(batch.Length));
            if (clip is ClipPolicy.GlobalNorm norm) nn.utils.clip_grad_norm_(parameters, norm.MaxNorm, norm.NormType);
            else clipper!.Apply(parameters.Select(p => p.grad!).ToArray(), parameters);
            optimizer.step();
        }
        return new FlatParameters(model).ReadValues();
    }

    private static int[] FileOrder(int count, int globalBatch, int batchOfEpoch)
    {
        int start = batchOfEpoch * globalBatch;
        return Enumerable.Range(start, Math.Min(globalBatch, count - start)).ToArray();
    }

    /// <summary>S contiguous shards of the batch; the first B mod S have one sample more.</summary>
    private static IEnumerable<int[]> ContiguousShards(int[] batch, int shards)
    {
        int start = 0;
        for (int r = 0; r < shards; r++)
        {
            int length = batch.Length / shards + (r < batch.Length % shards ? 1 : 0);
            yield return batch[start..(start + length)];
            start += length;
        }
    }

    /// <summary>Σ over the shard's samples of the loss gradient, accumulated micro-batch by micro-batch; a copy per parameter.</summary>
    private static Tensor[] GradientSum(nn.Module<Tensor, Tensor> model, IImageDataset data, int[] shard, int microBatch, Augmenter? augmenter, int epoch)
    {
        model.zero_grad();
        foreach (var piece in shard.Chunk(microBatch))
        {
            var (x, y) = data.Batch(piece);
            if (augmenter is not null) x = augmenter.Train(x, piece, epoch);
            var output = model.forward(x);
            var loss = data.Task == TaskKind.Regression
                ? nn.functional.mse_loss(output, y, reduction: nn.Reduction.Sum) / output.shape[1]   // per sample: the mean over targets
                : nn.functional.cross_entropy(output, y, reduction: nn.Reduction.Sum);
            loss.backward();
        }
        return model.parameters().Select(p => p.grad!.clone()).ToArray();
    }
}
