// What a worker's join costs for the data check: hashing the 1,024 samples the coordinator picks, on Fashion-MNIST and on a
// folder of 100,000 PNG files (made once under /tmp/distclip-folder-100k), with a warm and a cold page cache.
// Run (as root, for the cold cache): dotnet run scripts/bench/join-cost.cs
#:project ../../Cli/DistClip.Cli.csproj
#:property DistClipNativeTorch=true
using System.Diagnostics;
using DistClip.Models.Data;
using SkiaSharp;

var fashion = DatasetCatalog.Load("fashion-mnist", Split.Train, null);
DataFingerprint.Of(fashion, DataFingerprint.Challenge(fashion.Count, 0));   // the first call pays for JIT and TorchSharp's start
Time($"fashion-mnist ({fashion.Count} samples in memory)", () => DataFingerprint.Of(fashion, DataFingerprint.Challenge(fashion.Count, 1)));

const string dir = "/tmp/distclip-folder-100k";
if (!Directory.Exists(dir)) MakeFolder(dir, 100_000);
var clock = Stopwatch.StartNew();
var folder = DatasetCatalog.Load("image-folder", Split.Train, dir);
Console.WriteLine($"listing the folder ({folder.Count} files, which loading the data set does anyway): {clock.Elapsed.TotalMilliseconds:F0} ms");
Time("folder, warm page cache", () => DataFingerprint.Of(folder, DataFingerprint.Challenge(folder.Count, 1)));
Time("folder, warm page cache", () => DataFingerprint.Of(folder, DataFingerprint.Challenge(folder.Count, 1)));
File.WriteAllText("/proc/sys/vm/drop_caches", "3");
Time("folder, cold page cache", () => DataFingerprint.Of(folder, DataFingerprint.Challenge(folder.Count, 2)));

static void Time(string what, Func<string> hash)
{
    var clock = Stopwatch.StartNew();
    hash();
    Console.WriteLine($"{what}: {clock.Elapsed.TotalMilliseconds:F0} ms");
}

static void MakeFolder(string dir, int files)
{
    using var bitmap = new SKBitmap(64, 64);
    var random = new Random(1);
    for (int c = 0; c < 10; c++)
        foreach (var split in new[] { "train", "val" }) Directory.CreateDirectory(Path.Combine(dir, split, $"class{c}"));
    for (int i = 0; i < files; i++)
    {
        for (int k = 0; k < 64; k++) bitmap.SetPixel(random.Next(64), random.Next(64), new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(dir, "train", $"class{i % 10}", $"{i}.png"), png.ToArray());
    }
    File.Copy(Path.Combine(dir, "train", "class0", "0.png"), Path.Combine(dir, "val", "class0", "0.png"));
}
