// The CIFAR binary reader on files the test writes, and a CIFAR-shaped ResNet trained on them by 2 workers.
using DistClip.Models.Data;
using DistClip.Tests.Cli;
using Xunit;

namespace DistClip.Tests.Data;

public sealed class CifarSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-cifar-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes CIFAR-10 binary files: <paramref name="perFile"/> records each, label i % 10, plane c filled with 10·label + c.</summary>
    private void WriteCifar10(int perFile)
    {
        foreach (var name in CifarReader.Files(false, Split.Train).Concat(CifarReader.Files(false, Split.Test)))
        {
            using var file = File.Create(Path.Combine(_dir, name));
            for (int i = 0; i < perFile; i++)
            {
                byte label = (byte)(i % 10);
                file.WriteByte(label);
                for (int c = 0; c < 3; c++)
                    for (int p = 0; p < 1024; p++) file.WriteByte((byte)(10 * label + c + (p % 7)));
            }
        }
    }

    [Fact]
    public void Should_read_labels_and_planes_in_chw_order()
    {
        WriteCifar10(perFile: 20);
        var train = DatasetCatalog.Load("cifar10", Split.Train, _dir);
        var test = DatasetCatalog.Load("cifar10", Split.Test, _dir);
        Assert.Equal((100, 20, 3, 32, 32, 10), (train.Count, test.Count, train.Channels, train.Height, train.Width, train.Classes));
        var (images, labels) = train.Batch([23]);   // file 2, record 3: label 3
        Assert.Equal(3L, labels[0].item<long>());
        Assert.Equal((10 * 3 + 2) / 255f, images[0, 2, 0, 0].item<float>());   // blue plane, first pixel
        Assert.Equal((10 * 3 + 0 + 5) / 255f, images[0, 0, 0, 5].item<float>());
    }

    [Fact]
    public void Should_name_a_truncated_or_missing_file()
    {
        WriteCifar10(perFile: 2);
        var path = Path.Combine(_dir, "data_batch_3.bin");
        File.WriteAllBytes(path, new byte[3000]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => DatasetCatalog.Load("cifar10", Split.Train, _dir)).Message);
        File.Delete(path);
        Assert.Contains("data_batch_3.bin", Assert.Throws<FileNotFoundException>(() => DatasetCatalog.Load("cifar10", Split.Train, _dir)).Message);
        Assert.Contains("--data-dir", Assert.Throws<ArgumentException>(() => DatasetCatalog.Load("cifar100", Split.Train, null)).Message);
    }

    [Fact]
    public void Should_train_a_cifar_shaped_resnet18_with_two_workers()
    {
        WriteCifar10(perFile: 16);
        var run = CliProcess.Run(TimeSpan.FromMinutes(5), "train", "--model", "resnet18_cifar", "--dataset", "cifar10", "--data-dir", _dir,
            "--workers", "2", "--steps", "3", "--global-batch", "16", "--clip", "norm:1", "--lr", "0.01");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("11,173,962 parameters", run.Stdout);
        Assert.Contains("done: 3 steps, 48 samples", run.Stdout);
        Assert.Contains("(16 samples)", run.Stdout);  // evaluated on the test file
    }
}
