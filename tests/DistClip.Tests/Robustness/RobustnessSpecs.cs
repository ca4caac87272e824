// Robustness evaluation: FGSM and PGD against PyTorch, noise that depends on seed and sample alone, bit-identical reruns,
// accuracy falling with σ, and one clear line for bad input — through the real CLI where a user would use it.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DistClip.Core;
using DistClip.Models.Data;
using DistClip.Models.Robustness;
using DistClip.Models.Zoo;
using DistClip.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace DistClip.Tests.Robustness;

public sealed class RobustnessSpecs(TrainedLeNet lenet, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TrainedLeNet>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>Debian's interpreter, the one python3-torch installs for (a pyenv or venv python3 on PATH may lack it).</summary>
    private const string DebianPython = "/usr/bin/python3";

    private CliRun Eval(string robustness, string json) => CliProcess.Run(Timeout, "eval", "--model", "lenet", "--weights", lenet.Weights,
        "--augment", TrainedLeNet.Augment, "--robustness", robustness, "--json", json);

    private static JsonElement[] Figures(string json) => JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("robustness").EnumerateArray().ToArray();

    [Fact]
    public void Should_match_a_PyTorch_FGSM_and_PGD_given_the_same_weights_and_random_start()
    {
        const int count = 2000, seed = 1, steps = 5;
        const double epsilon = 0.03;
        var test = ((InMemoryImageDataset)DatasetCatalog.Load("fashion-mnist", Split.Test, null)).Take(count);
        using var model = ModelZoo.Create(new ModelSpec("lenet", 1, 28, 28, 10, 256), 0);
        Safetensors.Load(model, lenet.Weights);
        var augmenter = new Augmenter(Augmentation.Parse(TrainedLeNet.Augment), seed);
        var ours = RobustnessEvaluation.Evaluate(model, test, [new Perturbation.Fgsm(epsilon), new Perturbation.Pgd(epsilon, steps)], seed, augmenter: augmenter);
        double clean = Models.Evaluation.Evaluate(model, test, augmenter: augmenter).Accuracy!.Value;

        // The reference gets the images, the labels and PGD's random start exactly as DistClip draws it.
        var inputs = Path.Combine(lenet.Folder, "reference-inputs.safetensors");
        using (NewDisposeScope())
        {
            var indices = Enumerable.Range(0, count).ToArray();
            var (images, labels) = test.Batch(indices);
            Safetensors.Write([("images", images), ("labels", labels.to_type(ScalarType.Float32)), ("start", SampleNoise.UniformStart(seed, indices, [1, 28, 28]))], inputs);
        }
        var reference = RunReference(lenet.Weights, inputs, epsilon, steps);
        int samples = reference.GetProperty("samples").GetInt32();
        Assert.Equal(count, samples);

        int Count(double accuracy) => (int)Math.Round(accuracy * count);
        output.WriteLine($"of {count}: clean {Count(clean)}, fgsm {Count(ours[0].Accuracy!.Value)}, pgd {Count(ours[1].Accuracy!.Value)}; PyTorch {reference}");
        Assert.True(Math.Abs(Count(clean) - reference.GetProperty("clean").GetInt32()) <= 1, $"clean: ours {Count(clean)}, PyTorch {reference.GetProperty("clean")} of {count}");
        // A gradient element near zero may take the other sign under rounding: a few images may differ, no more.
        Assert.True(Math.Abs(Count(ours[0].Accuracy!.Value) - reference.GetProperty("fgsm").GetInt32()) <= 3,
            $"fgsm:{epsilon}: ours {Count(ours[0].Accuracy!.Value)}, PyTorch {reference.GetProperty("fgsm")} of {count} correct");
        Assert.True(Math.Abs(Count(ours[1].Accuracy!.Value) - reference.GetProperty("pgd").GetInt32()) <= 3,
            $"pgd:{epsilon}:{steps}: ours {Count(ours[1].Accuracy!.Value)}, PyTorch {reference.GetProperty("pgd")} of {count} correct");
        // The comparison means something only if the attacks bite: both take a good share of the clean accuracy.
        Assert.True(ours[0].Accuracy < clean - 0.1 && ours[1].Accuracy < clean - 0.1,
            $"clean {clean}, fgsm {ours[0].Accuracy}, pgd {ours[1].Accuracy}");
        Assert.Equal(epsilon / TrainedLeNet.Std, ours[0].LinfBudgetNormalized!.Value, 6);
    }

    private static JsonElement RunReference(string weights, string inputs, double epsilon, int steps)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Robustness", "reference_attacks.py");
        var info = new ProcessStartInfo(DebianPython) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, weights, inputs, F(epsilon), F(steps), F(TrainedLeNet.Mean), F(TrainedLeNet.Std) }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(Timeout), "the PyTorch reference did not finish");
        Assert.True(process.ExitCode == 0, $"the PyTorch reference failed (exit {process.ExitCode}; python3-torch is installed by scripts/setup-machine.sh):\n{stderr.Result}");
        return JsonDocument.Parse(stdout).RootElement;
    }

    private static string F(double value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Should_give_bit_identical_figures_in_two_evaluations()
    {
        const string specs = "gauss:0.1,fgsm:0.03,pgd:0.03:3";
        string first = Path.Combine(lenet.Folder, "first.json"), second = Path.Combine(lenet.Folder, "second.json");
        foreach (var json in new[] { first, second })
        {
            var run = Eval(specs, json);
            Assert.True(run.ExitCode == 0, $"eval exit {run.ExitCode}\n{run.Stderr}");
        }
        Assert.Equal(["gauss:0.1", "fgsm:0.03", "pgd:0.03:3"], Figures(first).Select(f => f.GetProperty("spec").GetString()));
        Assert.Equal(File.ReadAllText(first), File.ReadAllText(second));
    }

    [Fact]
    public void Should_lose_accuracy_as_gaussian_noise_grows()
    {
        string json = Path.Combine(lenet.Folder, "gauss.json");
        var run = Eval("gauss:0.05,gauss:0.2,gauss:0.5", json);
        Assert.True(run.ExitCode == 0, $"eval exit {run.ExitCode}\n{run.Stderr}");
        double clean = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("accuracy").GetDouble();
        var accuracy = Figures(json).Select(f => f.GetProperty("accuracy").GetDouble()).Prepend(clean).ToArray();
        var change = Figures(json).Select(f => f.GetProperty("output_change_mean").GetDouble()).ToArray();
        Assert.True(accuracy.Zip(accuracy.Skip(1)).All(p => p.First > p.Second), $"accuracy clean, σ 0.05, 0.2, 0.5: {string.Join(", ", accuracy)}");
        Assert.True(change.Zip(change.Skip(1)).All(p => p.First < p.Second), $"output change at σ 0.05, 0.2, 0.5: {string.Join(", ", change)}");
        Assert.Contains("under gauss:0.5: accuracy", run.Stdout);
    }

    [Fact]
    public void Should_draw_each_samples_noise_from_the_seed_and_its_index_alone()
    {
        using var scope = NewDisposeScope();
        var batch = SampleNoise.StandardNormal(7, [3, 11, 5], [1, 4, 4]);
        var alone = SampleNoise.StandardNormal(7, [11], [1, 4, 4]);
        var start = SampleNoise.UniformStart(7, [11], [1, 4, 4]);
        var otherSeed = SampleNoise.StandardNormal(8, [11], [1, 4, 4]);
        Assert.True(batch[1].equal(alone[0]).all().item<bool>(), "sample 11's noise changed with its batch");
        Assert.False(batch[0].equal(batch[2]).all().item<bool>(), "samples 3 and 5 drew the same noise");
        Assert.False(alone.equal(otherSeed).all().item<bool>(), "seeds 7 and 8 drew the same noise");
        Assert.True(start.min().item<float>() >= -1 && start.max().item<float>() < 1 && !start.equal(alone).all().item<bool>(), "PGD's start is not its own uniform draw");
    }

    [Theory]
    [InlineData("eval --robustness blur:1", "'blur:1' is not known")]
    [InlineData("eval --robustness fgsm:0", "'fgsm:0': ε must be greater than 0")]
    [InlineData("eval --robustness gauss:-0.1", "'gauss:-0.1': σ must be greater than 0")]
    [InlineData("eval --robustness pgd:0.03:0", "'pgd:0.03:0': steps must be")]
    [InlineData("eval --robustness pgd:0.03", "'pgd:0.03' has the wrong number of parts")]
    [InlineData("train --eval-robustness fgsm:0.03 --no-eval", "--eval-robustness runs with the test evaluation")]
    [InlineData("train --eval-robustness fgsm:abc", "--eval-robustness: perturbation 'fgsm:abc' has no number")]
    [InlineData("sweep --clips none --select robust-acc:fgsm:-1", "--select: perturbation 'fgsm:-1'")]
    [InlineData("sweep --clips none --select loss", "--select 'loss' is not known")]
    public void Should_reject_bad_perturbations_with_one_clear_line(string args, string named)
    {
        string[] rest = args.StartsWith("eval") ? ["--model", "lenet", "--weights", "/nonexistent.safetensors"] : ["--dataset", "synthetic", "--steps", "1"];
        var run = CliProcess.Run(Timeout, [.. args.Split(' '), .. rest]);
        Assert.Equal(2, run.ExitCode);
        var errorLines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errorLines.Length == 1, $"expected one line on stderr, got:\n{run.Stderr}");
        Assert.Contains(named, errorLines[0]);
    }

    /// <summary>A data set of feature vectors (B, 16), not images: what a tabular set would give.</summary>
    private sealed class FeatureVectors : IImageDataset
    {
        public string Name => "features";
        public int Count => 8;
        public int Channels => 1;
        public int Height => 1;
        public int Width => 16;
        public int Classes => 2;
        public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices) => (randn(indices.Length, 16), zeros(indices.Length, ScalarType.Int64));
    }

    [Fact]
    public void Should_refuse_pixel_attacks_on_inputs_that_are_not_images()
    {
        using var model = new Models.Zoo.Mlp(16, 8, 2);
        var error = Assert.Throws<ArgumentException>(() => RobustnessEvaluation.Evaluate(model, new FeatureVectors(), [new Perturbation.Fgsm(0.03)], 1));
        Assert.Contains("--robustness fgsm:0.03", error.Message);
        Assert.Contains("features's inputs are not", error.Message);
    }
}
