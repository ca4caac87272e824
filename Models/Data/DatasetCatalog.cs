// Finds and loads the named data sets (fashion-mnist, mnist, cifar, synthetic, image folders, VOC) for a split.
namespace DistClip.Models.Data;

/// <summary>Loads data sets by name; the only place that knows file names and default locations.</summary>
public static class DatasetCatalog
{
    /// <summary>Data set names accepted by <see cref="Load"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fashion-mnist", "mnist", "cifar10", "cifar100", "synthetic", "synthetic-regression", "synthetic-segmentation", "image-folder", "voc"];

    /// <summary>Side of the square images the image-folder and VOC readers resize to (then --augment resize:S applies).</summary>
    public const int FileImageSize = 64;

    /// <summary>Where Debian's dataset-fashion-mnist package puts the IDX files.</summary>
    public const string FashionMnistPackageDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>Size of the synthetic training split; its test split is a quarter of it.</summary>
    public const int SyntheticTrainSize = 4096;

    /// <summary>
    /// Loads <paramref name="name"/>'s <paramref name="split"/>. <paramref name="dataDir"/> overrides the
    /// default location of file-backed sets; <paramref name="seed"/> determines the synthetic set.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, or no directory given where there is no default.</exception>
    /// <exception cref="FileNotFoundException">A file of the set is missing; the message names it.</exception>
    public static IImageDataset Load(string name, Split split, string? dataDir, int seed = 0)
    {
        if (dataDir is not null && File.Exists(dataDir))
            throw new ArgumentException($"--data-dir {dataDir} is a file; give the folder that holds the {name} data set's files.");
        return LoadFrom(name, split, dataDir, seed);
    }

    private static IImageDataset LoadFrom(string name, Split split, string? dataDir, int seed) => name switch
    {
        "fashion-mnist" => LoadIdx(name, split, dataDir ?? FashionMnistPackageDir),
        "mnist" => LoadIdx(name, split, dataDir ?? throw new ArgumentException("The mnist data set needs --data-dir (a folder with the four IDX files).")),
        "cifar10" or "cifar100" => CifarReader.Load(dataDir ?? throw new ArgumentException($"The {name} data set needs --data-dir (a folder with its binary files)."), name == "cifar100", split),
        "image-folder" => new ImageFolderDataset(SplitFolder(dataDir ?? throw new ArgumentException("The image-folder data set needs --data-dir (DIR/train/CLASS/*.png and DIR/val/CLASS/*.png)."), split), FileImageSize),
        "voc" => new VocSegmentationDataset(dataDir ?? throw new ArgumentException("The voc data set needs --data-dir (a VOC2012-style folder)."), split == Split.Train ? "train" : "val", FileImageSize),
        "synthetic-segmentation" => new SyntheticSegmentation($"synthetic-segmentation/{split.ToString().ToLowerInvariant()}",
            split == Split.Train ? SyntheticTrainSize / 2 : SyntheticTrainSize / 8, seed),
        "synthetic-regression" => new SyntheticRegression($"synthetic-regression/{split.ToString().ToLowerInvariant()}",
            split == Split.Train ? SyntheticTrainSize : SyntheticTrainSize / 4, seed),
        "synthetic" => SyntheticClassification.Create($"synthetic/{split.ToString().ToLowerInvariant()}",
            split == Split.Train ? SyntheticTrainSize : SyntheticTrainSize / 4, 1, 28, 28, 10, seed),
        _ => throw new ArgumentException($"Unknown data set '{name}'; known data sets: {string.Join(", ", Names)}."),
    };

    /// <summary>DIR/train or DIR/val when they exist, else DIR itself (one layout for both splits).</summary>
    private static string SplitFolder(string dir, Split split)
    {
        var sub = Path.Combine(dir, split == Split.Train ? "train" : "val");
        return Directory.Exists(sub) ? sub : dir;
    }

    private static InMemoryImageDataset LoadIdx(string name, Split split, string dir)
    {
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Data directory not found: {dir} (install dataset-fashion-mnist or pass --data-dir).");
        string prefix = split == Split.Train ? "train" : "t10k";
        var (imageDims, pixels) = IdxReader.ReadBytes(Find(dir, $"{prefix}-images-idx3-ubyte"));
        var labelsPath = Find(dir, $"{prefix}-labels-idx1-ubyte");
        var (labelDims, labels) = IdxReader.ReadBytes(labelsPath);
        if (imageDims.Length != 3 || labelDims.Length != 1 || imageDims[0] != labelDims[0])
            throw new InvalidDataException($"{labelsPath}: {labelDims[0]} labels for images of shape [{string.Join(", ", imageDims)}].");
        return new InMemoryImageDataset($"{name}/{prefix}", pixels, labels, 1, imageDims[1], imageDims[2], 10);
    }

    private static string Find(string dir, string stem)
    {
        var dotted = stem.Replace("-idx", ".idx");  // some mirrors name the files train-images.idx3-ubyte
        foreach (var candidate in new[] { stem, stem + ".gz", dotted, dotted + ".gz" })
        {
            var path = Path.Combine(dir, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"IDX file not found: {Path.Combine(dir, stem)}[.gz]", Path.Combine(dir, stem));
    }
}
