// Reads the CIFAR-10 and CIFAR-100 binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
namespace DistClip.Models.Data;

/// <summary>
/// CIFAR binary files: records of a label byte (CIFAR-100: a coarse and a fine label byte, the fine one
/// is used) followed by 3 × 32 × 32 pixel bytes, red plane then green then blue — already the (C, H, W)
/// layout <see cref="InMemoryImageDataset"/> keeps.
/// </summary>
public static class CifarReader
{
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>Files of each split, as the official archives name them.</summary>
    public static string[] Files(bool cifar100, Split split) => (cifar100, split) switch
    {
        (false, Split.Train) => ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        (false, Split.Test) => ["test_batch.bin"],
        (true, Split.Train) => ["train.bin"],
        (true, Split.Test) => ["test.bin"],
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "unknown split"),
    };

    /// <summary>Loads a split from <paramref name="dir"/> (or its cifar-10-batches-bin / cifar-100-binary subfolder).</summary>
    /// <exception cref="FileNotFoundException">A file of the split is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is not a whole number of records, or has a label out of range; the message names it.</exception>
    public static InMemoryImageDataset Load(string dir, bool cifar100, Split split)
    {
        string sub = Path.Combine(dir, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin");
        if (Directory.Exists(sub)) dir = sub;
        int labelBytes = cifar100 ? 2 : 1, record = labelBytes + ImageBytes, classes = cifar100 ? 100 : 10;
        var pixels = new List<byte[]>();
        var labels = new List<byte>();
        foreach (var name in Files(cifar100, split))
        {
            var path = Path.Combine(dir, name);
            if (!File.Exists(path)) throw new FileNotFoundException($"CIFAR file not found: {path}", path);
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0 || bytes.Length % record != 0)
                throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {record}-byte CIFAR records (truncated or not CIFAR{(cifar100 ? "-100" : "-10")}).");
            for (int offset = 0; offset < bytes.Length; offset += record)
            {
                byte label = bytes[offset + labelBytes - 1];
                if (label >= classes) throw new InvalidDataException($"{path}: label {label} at byte {offset} is outside [0, {classes}).");
                labels.Add(label);
                pixels.Add(bytes[(offset + labelBytes)..(offset + record)]);
            }
        }
        return new InMemoryImageDataset($"{(cifar100 ? "cifar100" : "cifar10")}/{split.ToString().ToLowerInvariant()}",
            pixels.SelectMany(p => p).ToArray(), labels.ToArray(), 3, 32, 32, classes);
    }
}
