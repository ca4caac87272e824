// Per-sample random draws of a robustness evaluation: they depend only on the seed and the sample's index.
using DistClip.Models.Data;
using static TorchSharp.torch;

namespace DistClip.Models.Robustness;

/// <summary>
/// The random part of a perturbation, drawn for each sample from its own generator seeded with
/// (seed, sample index, stream): the same sample gets the same draw whatever batch it is in, whatever the
/// batch size, and whatever other perturbations are evaluated. Gaussian noise and PGD's random start draw
/// from different streams; noise of every σ is the same draw scaled, so accuracies under different σ
/// differ by σ alone.
/// </summary>
public static class SampleNoise
{
    private const long GaussStream = 1, PgdStartStream = 2;

    /// <summary>Standard normal draws, one image per sample: (B, C, H, W) for <paramref name="indices"/>[b].</summary>
    public static Tensor StandardNormal(int seed, ReadOnlySpan<int> indices, long[] imageShape) =>
        Draw(seed, GaussStream, indices, imageShape, (shape, g) => randn(shape, generator: g));

    /// <summary>
    /// PGD's random start: uniform draws in [−1, 1), one image per sample, to be scaled by ε
    /// (<see cref="GradientAttacks.Pgd"/>). Public so that a reference implementation can be handed the same start.
    /// </summary>
    public static Tensor UniformStart(int seed, ReadOnlySpan<int> indices, long[] imageShape) =>
        Draw(seed, PgdStartStream, indices, imageShape, (shape, g) => rand(shape, generator: g) * 2 - 1);

    private static Tensor Draw(int seed, long stream, ReadOnlySpan<int> indices, long[] imageShape, Func<long[], Generator, Tensor> draw)
    {
        var samples = new Tensor[indices.Length];
        for (int b = 0; b < indices.Length; b++)
        {
            using var generator = new Generator((ulong)(uint)StableSeed.Of(seed, indices[b], stream));
            samples[b] = draw(imageShape, generator);  // (C, H, W)
        }
        return stack(samples);                         // (B, C, H, W)
    }
}
