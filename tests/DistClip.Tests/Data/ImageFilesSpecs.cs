// Image-folder and PASCAL VOC readers on fixtures the test writes: real PNG and JPEG files, palette PNG masks included.
using System.Buffers.Binary;
using System.IO.Compression;
using DistClip.Models.Data;
using DistClip.Tests.Cli;
using SkiaSharp;
using Xunit;

namespace DistClip.Tests.Data;

public sealed class ImageFilesSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-images-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void WriteImage(string path, SKColor colour, int size, SKEncodedImageFormat format)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(size, size);
        bitmap.Erase(colour);
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>A real indexed-colour PNG (colour type 3, PLTE chunk) with the VOC palette, as the VOC masks are.</summary>
    private static void WritePalettePng(string path, byte[,] indices)
    {
        int h = indices.GetLength(0), w = indices.GetLength(1);
        var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            raw.WriteByte(0);  // filter: none
            for (int x = 0; x < w; x++) raw.WriteByte(indices[y, x]);
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());
        var palette = new byte[256 * 3];
        for (int c = 0; c < 256; c++)
        {
            var colour = c == 255 ? new SKColor(224, 224, 192) : VocSegmentationDataset.ColourOf(c);
            (palette[3 * c], palette[3 * c + 1], palette[3 * c + 2]) = (colour.Red, colour.Green, colour.Blue);
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, w);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), h);
        (header[8], header[9]) = (8, 3);  // 8 bits, indexed colour
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        Chunk(file, "IHDR", header);
        Chunk(file, "PLTE", palette);
        Chunk(file, "IDAT", compressed.ToArray());
        Chunk(file, "IEND", []);
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        s.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        s.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Should_read_an_image_folder_and_train_on_it()
    {
        foreach (var split in new[] { "train", "val" })
            for (int i = 0; i < 6; i++)
            {
                WriteImage(Path.Combine(_dir, split, "blue", $"{i}.png"), new SKColor(0, 0, (byte)(200 + i)), 40, SKEncodedImageFormat.Png);
                WriteImage(Path.Combine(_dir, split, "red", $"{i}.jpg"), new SKColor((byte)(200 + i), 0, 0), 48, SKEncodedImageFormat.Jpeg);
            }
        var train = (ImageFolderDataset)DatasetCatalog.Load("image-folder", Split.Train, _dir);
        Assert.Equal(["blue", "red"], train.ClassNames);
        Assert.Equal((12, 3, 64, 64), (train.Count, train.Channels, train.Height, train.Width));
        var (images, labels) = train.Batch([0, 6]);
        Assert.Equal([0L, 1L], labels.data<long>().ToArray());
        Assert.True(images[0, 2].mean().item<float>() > 0.75 && images[0, 0].mean().item<float>() < 0.05, "a blue image decodes blue");
        Assert.True(images[1, 0].mean().item<float>() > 0.7, "a red JPEG decodes red");

        var run = CliProcess.Run(TimeSpan.FromMinutes(3), "train", "--dataset", "image-folder", "--data-dir", _dir, "--model", "lenet", "--steps", "10",
            "--global-batch", "6", "--optimizer", "adam", "--lr", "0.01");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("test: loss", run.Stdout);
    }

    [Fact]
    public void Should_read_the_voc_layout_with_palette_masks_and_train_a_segmentation_network()
    {
        var mask = new byte[20, 20];
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++)
                mask[y, x] = (byte)(x < 8 ? 0 : x == 8 ? 255 : y < 10 ? 15 : 7);   // background | border | person / car
        Directory.CreateDirectory(Path.Combine(_dir, "SegmentationClass"));
        Directory.CreateDirectory(Path.Combine(_dir, "ImageSets", "Segmentation"));
        var ids = new[] { "2007_000001", "2007_000002", "2007_000003" };
        foreach (var id in ids)
        {
            WriteImage(Path.Combine(_dir, "JPEGImages", id + ".jpg"), new SKColor(90, 120, 150), 20, SKEncodedImageFormat.Jpeg);
            WritePalettePng(Path.Combine(_dir, "SegmentationClass", id + ".png"), mask);
        }
        File.WriteAllLines(Path.Combine(_dir, "ImageSets", "Segmentation", "train.txt"), ids[..2]);
        File.WriteAllLines(Path.Combine(_dir, "ImageSets", "Segmentation", "val.txt"), ids[2..]);

        var voc = DatasetCatalog.Load("voc", Split.Train, _dir);
        Assert.Equal((2, 21, 64), (voc.Count, voc.Classes, voc.Height));
        var (_, labels) = voc.Batch([1]);   // (1, 64, 64): the 20×20 mask scaled by 3.2, nearest
        Assert.Equal(0L, labels[0, 10, 5].item<long>());
        Assert.Equal(15L, labels[0, 5, 50].item<long>());
        Assert.Equal(7L, labels[0, 60, 50].item<long>());
        Assert.Equal(255L, labels[0, 30, 27].item<long>());
        Assert.Equal(new[] { 0L, 7, 15, 255 }, labels.unique().Item1.data<long>().ToArray());

        var run = CliProcess.Run(TimeSpan.FromMinutes(3), "train", "--dataset", "voc", "--data-dir", _dir, "--model", "unet", "--steps", "3", "--global-batch", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("mean IoU", run.Stdout);
    }

    [Fact]
    public void Should_name_a_file_that_is_not_an_image()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "a"));
        Directory.CreateDirectory(Path.Combine(_dir, "b"));
        File.WriteAllText(Path.Combine(_dir, "a", "x.png"), "not a picture");
        File.WriteAllText(Path.Combine(_dir, "b", "y.png"), "not a picture");
        var data = DatasetCatalog.Load("image-folder", Split.Train, _dir);
        var e = Assert.Throws<InvalidDataException>(() => data.Batch([0]));
        Assert.Contains("x.png", e.Message);
    }
}
