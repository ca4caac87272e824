// A seeded synthetic classification set: one random prototype image per class plus noise.
namespace DistClip.Models.Data;

/// <summary>
/// Makes a learnable classification data set in milliseconds: each class has a random prototype
/// image; a sample is its class prototype blended with uniform noise (60 % prototype, 40 % noise).
/// The same seed always yields the same bytes.
/// </summary>
public static class SyntheticClassification
{
    public static InMemoryImageDataset Create(string name, int count, int channels, int height, int width, int classes, int seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be at least 1");
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "must be at least 2");
        int size = channels * height * width;
        var prototypes = new Random(seed);          // the prototypes depend on the seed only, so train and test share them
        var protos = new byte[classes * size];
        prototypes.NextBytes(protos);
        var random = new Random(StableSeed.Of(seed, name));  // the same bytes in every process
        var pixels = new byte[count * size];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(classes);
            labels[i] = (byte)label;
            for (int k = 0; k < size; k++)
                pixels[i * size + k] = (byte)(0.6 * protos[label * size + k] + 0.4 * random.Next(256));
        }
        return new InMemoryImageDataset(name, pixels, labels, channels, height, width, classes);
    }
}
