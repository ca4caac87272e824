// Shared test inputs: a cached Fashion-MNIST slice and small synthetic sets.
using DistClip.Models.Data;

namespace DistClip.Tests;

public static class TestData
{
    private static readonly Lazy<InMemoryImageDataset> FashionTrain = new(() => (InMemoryImageDataset)DatasetCatalog.Load("fashion-mnist", Split.Train, null));

    /// <summary>The first <paramref name="count"/> Fashion-MNIST training images (the Debian package's copy).</summary>
    public static InMemoryImageDataset FashionMnist(int count) => FashionTrain.Value.Take(count);

    public static InMemoryImageDataset Synthetic(int count, int seed = 3) =>
        SyntheticClassification.Create("synthetic-test", count, 1, 28, 28, 10, seed);
}
