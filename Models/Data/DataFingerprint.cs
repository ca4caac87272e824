// Whether two nodes' copies of a training split hold the same samples: a hash of samples the coordinator picks.
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace DistClip.Models.Data;

/// <summary>
/// A worker reads the training split from its own copy; a stale or damaged copy trains on other data without a sound.
/// At join the coordinator names <see cref="SampleCount"/> samples spread over the split (a seeded draw, the same for
/// every worker of the run), and the worker answers with the SHA-256 of their images and labels and the split's size;
/// the coordinator compares both with its own copy's. 1,024 samples find a damage that touches 1 % of the split with
/// probability 1 − 0.99^1024 ≈ 1 − 3e-5, and cost only their decoding: the same on a 100,000-file folder as on
/// Fashion-MNIST, no pass over the whole copy.
/// </summary>
public static class DataFingerprint
{
    /// <summary>Samples a worker hashes at join.</summary>
    public const int SampleCount = 1024;

    /// <summary>The indices the coordinator asks for: <see cref="SampleCount"/> distinct samples of a split of <paramref name="count"/>, drawn with <paramref name="seed"/>.</summary>
    public static int[] Challenge(int count, int seed)
    {
        var random = new Random(seed);
        var picked = new HashSet<int>();
        int wanted = Math.Min(SampleCount, count);
        while (picked.Count < wanted) picked.Add(random.Next(count));
        return picked.Order().ToArray();
    }

    /// <summary>The SHA-256 (hex) of the images and labels at <paramref name="indices"/> of <paramref name="data"/>, in that order.</summary>
    public static string Of(IImageDataset data, IReadOnlyList<int> indices)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var chunk in indices.Where(i => i < data.Count).Chunk(128))
        {
            using var scope = NewDisposeScope();
            var (images, labels) = data.Batch(chunk);
            hash.AppendData(images.contiguous().bytes);
            hash.AppendData(labels.contiguous().bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
