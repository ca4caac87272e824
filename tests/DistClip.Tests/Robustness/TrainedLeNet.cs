// A LeNet trained once through the real CLI for the robustness specs: weights a user would have after `distclip train`.
using DistClip.Tests.Cli;

namespace DistClip.Tests.Robustness;

/// <summary>
/// LeNet trained 400 steps on Fashion-MNIST with normalisation (test accuracy about 0.8), so that attacks have
/// something to take away and the attack's space (pixels, before normalisation) matters.
/// </summary>
public sealed class TrainedLeNet : IDisposable
{
    public const string Augment = "normalize:0.286:0.353";
    public const float Mean = 0.286f, Std = 0.353f;

    public string Folder { get; } = Directory.CreateTempSubdirectory("distclip-robust-").FullName;
    public string Weights => Path.Combine(Folder, "lenet.safetensors");

    public TrainedLeNet()
    {
        var run = CliProcess.Run(TimeSpan.FromMinutes(5), "train", "--model", "lenet", "--steps", "400", "--augment", Augment, "--save", Weights, "--no-eval");
        if (run.ExitCode != 0) throw new InvalidOperationException($"training the test's LeNet failed (exit {run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
