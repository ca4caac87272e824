// IDX and safetensors: round trips, and errors that name the bad file or tensor.
using System.IO.Compression;
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Zoo;
using Xunit;
using DistClip.Core;

namespace DistClip.Tests.Data;

public sealed class DataFormatSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Idx(int[] dims, byte[] data)
    {
        var header = new List<byte> { 0, 0, 0x08, (byte)dims.Length };
        foreach (var d in dims) header.AddRange(BitConverter.GetBytes(d).Reverse());
        return [.. header, .. data];
    }

    private string WriteGzip(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(bytes);
        return path;
    }

    [Fact]
    public void Should_read_gzip_and_raw_idx_files_into_a_data_set()
    {
        var pixels = Enumerable.Range(0, 3 * 4 * 4).Select(i => (byte)(i * 5)).ToArray();
        WriteGzip("train-images-idx3-ubyte.gz", Idx([3, 4, 4], pixels));
        File.WriteAllBytes(Path.Combine(_dir, "train-labels-idx1-ubyte"), Idx([3], [7, 0, 9]));

        var data = DatasetCatalog.Load("fashion-mnist", Split.Train, _dir);

        Assert.Equal((3, 1, 4, 4), (data.Count, data.Channels, data.Height, data.Width));
        var (images, labels) = data.Batch([2, 0]);
        Assert.Equal([9L, 7L], labels.data<long>().ToArray());
        Assert.Equal(pixels[32] / 255f, images[0, 0, 0, 0].item<float>());
        Assert.Equal(new long[] { 2, 1, 4, 4 }, images.shape);
    }

    [Fact]
    public void Should_name_a_truncated_file()
    {
        var path = WriteGzip("t10k-images-idx3-ubyte.gz", Idx([10, 28, 28], new byte[100]));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadBytes(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Should_name_a_corrupt_gzip_file_and_a_missing_one()
    {
        var path = Path.Combine(_dir, "bad.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => IdxReader.ReadBytes(path)).Message);
        var e = Assert.Throws<FileNotFoundException>(() => DatasetCatalog.Load("fashion-mnist", Split.Test, _dir));
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void Should_round_trip_weights_through_safetensors_with_state_dict_names()
    {
        var spec = new ModelSpec("lenet", 1, 28, 28, 10);
        using var a = ModelZoo.Create(spec, 1);
        using var b = ModelZoo.Create(spec, 2);
        var path = Path.Combine(_dir, "w.safetensors");

        Safetensors.Save(a, path);
        var tensors = Safetensors.Read(path);
        Safetensors.Load(b, path);

        string[] expected = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"];
        Assert.Equal(expected, new FlatParameters(a).Names);
        Assert.Equal(expected.Order(StringComparer.Ordinal), tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new long[] { 6, 1, 5, 5 }, tensors["conv1.weight"].Shape);
        Assert.Equal(new FlatParameters(a).ReadValues(), new FlatParameters(b).ReadValues());
    }

    [Fact]
    public void Should_name_the_tensor_whose_shape_does_not_fit()
    {
        using var lenet = ModelZoo.Create(new ModelSpec("lenet", 1, 28, 28, 10), 1);
        using var other = ModelZoo.Create(new ModelSpec("lenet", 1, 28, 28, 5), 1);
        var path = Path.Combine(_dir, "w.safetensors");
        Safetensors.Save(other, path);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Load(lenet, path));
        Assert.Contains("fc3.weight", e.Message);
    }

    [Fact]
    public void Should_count_the_parameters_of_each_model()
    {
        using var lenet = ModelZoo.Create(new ModelSpec("lenet", 1, 28, 28, 10), 1);
        using var mlp = ModelZoo.Create(new ModelSpec("mlp", 1, 28, 28, 10, 256), 1);
        using var cnn = ModelZoo.Create(new ModelSpec("cnn", 1, 28, 28, 10), 1);
        Assert.Equal(61_706, new FlatParameters(lenet).ElementCount);
        Assert.Equal(3_274_634, new FlatParameters(cnn).ElementCount);
        Assert.Equal(784 * 256 + 256 + 256 * 10 + 10, new FlatParameters(mlp).ElementCount);
    }
}
