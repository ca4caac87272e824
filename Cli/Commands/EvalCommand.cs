// `distclip eval`: loss and accuracy of saved weights on a data set's test split, and under perturbations (--robustness).
using System.CommandLine;
using System.Text.Json;
using DistClip.Hosting;
using DistClip.Models;
using DistClip.Models.Data;
using DistClip.Models.Robustness;
using DistClip.Models.Zoo;
using DistClip.Core;

namespace DistClip.Cli.Commands;

public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model the weights belong to.", Required = true };
        var weights = new Option<string>("--weights") { Description = "Weights file (safetensors).", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "Data set whose test split to evaluate on.", DefaultValueFactory = _ => "fashion-mnist" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Folder with the data set's files." };
        var hidden = new Option<int>("--hidden") { Description = "Hidden width of mlp.", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data set, and of the perturbations' noise and random starts.", DefaultValueFactory = _ => 1 };
        var augment = new Option<string?>("--augment") { Description = "The training run's --augment: its resize and normalisation apply here too." };
        var robustness = new Option<string?>("--robustness") { Description = "Also evaluate under these perturbations, e.g. gauss:0.05,gauss:0.1,fgsm:0.03,pgd:0.03:10 (σ and ε in pixel units of [0, 1], before normalisation)." };
        var json = new Option<string?>("--json") { Description = "Write the figures to this file as JSON: accuracy, loss, and one object per perturbation." };
        var command = new Command("eval", "Evaluate saved weights on a test split: mean loss and accuracy, and optionally accuracy and output change under perturbations.")
            { model, weights, dataset, dataDir, hidden, seed, augment, robustness, json };
        command.SetAction(p => CommandGuard.Run(() =>
        {
            var name = p.GetValue(model)!;
            if (!ModelZoo.Names.Contains(name)) throw new ArgumentException($"--model '{name}' is not known; known models: {string.Join(", ", ModelZoo.Names)}.");
            var perturbations = p.GetValue(robustness) is { } specs ? RobustnessOption.Parse("--robustness", specs) : [];
            var jsonPath = p.GetValue(json);
            OutputPaths.CheckFile("--json", jsonPath);
            var test = DatasetCatalog.Load(p.GetValue(dataset)!, Split.Test, p.GetValue(dataDir), p.GetValue(seed));
            var augmentation = p.GetValue(augment) is { } spec ? Augmentation.Parse(spec) : Augmentation.None;
            int size = augmentation.Resize ?? test.Height;
            using var net = ModelZoo.Create(new ModelSpec(name, test.Channels, size, augmentation.Resize ?? test.Width, test.Classes, p.GetValue(hidden)), 0);
            Safetensors.Load(net, p.GetValue(weights)!);
            var augmenter = augmentation.IsNone ? null : new Augmenter(augmentation, 0);
            var r = Evaluation.Evaluate(net, test, augmenter: augmenter);
            Console.WriteLine($"{test.Name}: {r.Describe()}");
            var figures = perturbations.Count == 0 ? [] : RobustnessEvaluation.Evaluate(net, test, perturbations, p.GetValue(seed), augmenter: augmenter);
            foreach (var f in figures) Console.WriteLine($"  under {f.Describe()}");
            if (jsonPath is not null)
            {
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(new EvalFigures(r.Accuracy, r.Loss, figures), EvalFigures.Options));
                Console.WriteLine($"wrote {jsonPath}");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>The shape of <c>eval --json</c>: <c>{"accuracy": …, "loss": …, "robustness": [{"spec": …, …}]}</c>.</summary>
    private sealed record EvalFigures(
        [property: System.Text.Json.Serialization.JsonPropertyName("accuracy")] double? Accuracy,
        [property: System.Text.Json.Serialization.JsonPropertyName("loss")] double Loss,
        [property: System.Text.Json.Serialization.JsonPropertyName("robustness")] IReadOnlyList<RobustnessFigure> Robustness)
    {
        public static readonly JsonSerializerOptions Options = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
    }
}
