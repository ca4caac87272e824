// Evaluates a model under input perturbations: accuracy and output change per perturbation, over fixed batches.
using DistClip.Core;
using DistClip.Models.Data;
using static TorchSharp.torch;

namespace DistClip.Models.Robustness;

/// <summary>
/// Runs every perturbation over a whole data set in fixed batches (samples [k·B, (k+1)·B)), in eval mode,
/// perturbing in pixel space — after the evaluation resize, before normalisation, clamped to [0, 1] — and
/// feeding the model the normalised result. Draws depend only on (seed, sample index) (<see cref="SampleNoise"/>),
/// so two evaluations of the same weights with the same seed, batch size and threads agree bit for bit.
/// </summary>
public static class RobustnessEvaluation
{
    /// <param name="augmenter">The run's augmentation: its resize and normalisation (the attack sits between them); null for none.</param>
    /// <param name="seed">Seeds the noise and PGD's random starts.</param>
    /// <exception cref="ArgumentException">The data set's inputs are not images in [0, 1] (names it).</exception>
    public static IReadOnlyList<RobustnessFigure> Evaluate(nn.Module<Tensor, Tensor> model, IImageDataset data, IReadOnlyList<Perturbation> perturbations,
        int seed, int batchSize = 1000, Device? device = null, Augmenter? augmenter = null)
    {
        device ??= CPU;
        CheckPixelInputs(data, perturbations);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var changes = perturbations.Select(_ => new List<double>(data.Count)).ToArray();
            var correct = new long[perturbations.Count];
            long judged = 0;
            var indices = Enumerable.Range(0, data.Count).ToArray();
            for (int start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = indices.AsSpan(start, Math.Min(batchSize, data.Count - start));
                var (raw, y) = data.Batch(batch);
                var pixels = (augmenter is null ? raw : augmenter.Resize(raw)).to(device);   // (B, C, H, W) in [0, 1]
                if (data.Task == TaskKind.Segmentation && augmenter is not null) y = augmenter.EvaluateMasks(y);
                y = y.to(device);
                Tensor Forward(Tensor x) => model.forward(augmenter is null ? x : augmenter.Normalize(x));
                Tensor Loss(Tensor x) => TaskLoss.Sum(data.Task, Forward(x), y);
                Tensor clean;
                using (no_grad()) clean = Forward(pixels);
                judged += Judged(data.Task, y);
                for (int i = 0; i < perturbations.Count; i++)
                {
                    using var inner = NewDisposeScope();
                    var perturbed = Perturb(perturbations[i], Loss, pixels, seed, batch);
                    using var noGrad = no_grad();
                    var outputs = Forward(perturbed);
                    correct[i] += Correct(data.Task, outputs, y);
                    changes[i].AddRange(OutputChange.PerSample(clean, outputs));
                }
            }
            return perturbations.Select((p, i) => new RobustnessFigure(p.ToString()!,
                data.Task == TaskKind.Regression ? null : (double)correct[i] / judged,
                changes[i].Average(), OutputChange.Percentile(changes[i], 95),
                p.Budget is double eps ? eps / (augmenter?.SmallestStd ?? 1.0) : null)).ToList();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The perturbed pixels of one batch, clamped to [0, 1].</summary>
    public static Tensor Perturb(Perturbation perturbation, Func<Tensor, Tensor> loss, Tensor pixels, int seed, ReadOnlySpan<int> indices)
    {
        long[] image = pixels.shape[1..];
        return perturbation switch
        {
            Perturbation.Gauss g => (pixels + SampleNoise.StandardNormal(seed, indices, image).to(pixels.device) * g.Sigma).clamp(0, 1),
            Perturbation.Fgsm f => GradientAttacks.Fgsm(loss, pixels, f.Epsilon),
            Perturbation.Pgd p => GradientAttacks.Pgd(loss, pixels, p.Epsilon, p.Steps, SampleNoise.UniformStart(seed, indices, image).to(pixels.device)),
            _ => throw new ArgumentOutOfRangeException(nameof(perturbation), perturbation, "unknown perturbation"),
        };
    }

    /// <summary>Pixel-space perturbations need images (B, C, H, W) with values in [0, 1]; checked on the first batch.</summary>
    private static void CheckPixelInputs(IImageDataset data, IReadOnlyList<Perturbation> perturbations)
    {
        if (perturbations.Count == 0 || data.Count == 0) return;
        using var scope = NewDisposeScope();
        var (x, _) = data.Batch(Enumerable.Range(0, Math.Min(data.Count, 64)).ToArray());
        double low = x.min().item<float>(), high = x.max().item<float>();
        if (x.dim() != 4 || low < 0 || high > 1)
            throw new ArgumentException($"--robustness {string.Join(',', perturbations)}: the perturbations work on images with pixels in [0, 1], " +
                $"and {data.Name}'s inputs are not (shape ({string.Join(", ", x.shape)}), values in [{low}, {high}]).");
    }

    private static long Judged(TaskKind task, Tensor y)
    {
        using var s = new HeldScalars();
        return task == TaskKind.Segmentation ? y.ne(s[TaskLoss.IgnoreLabel]).sum().item<long>() : y.shape[0];
    }

    private static long Correct(TaskKind task, Tensor outputs, Tensor y)
    {
        using var s = new HeldScalars();
        return task switch
        {
            TaskKind.Classification => outputs.argmax(1).eq(y).sum().item<long>(),
            TaskKind.Segmentation => outputs.argmax(1).eq(y).logical_and(y.ne(s[TaskLoss.IgnoreLabel])).sum().item<long>(),
            _ => 0,
        };
    }
}
