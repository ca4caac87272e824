// `distclip eval`: loss and accuracy of saved weights on a data set's test split.
using System.CommandLine;
using DistClip.Models;
using DistClip.Models.Data;
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
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data set.", DefaultValueFactory = _ => 1 };
        var augment = new Option<string?>("--augment") { Description = "The training run's --augment: its resize and normalisation apply here too." };
        var command = new Command("eval", "Evaluate saved weights on a test split: mean loss and accuracy.") { model, weights, dataset, dataDir, hidden, seed, augment };
        command.SetAction(p => CommandGuard.Run(() =>
        {
            var name = p.GetValue(model)!;
            if (!ModelZoo.Names.Contains(name)) throw new ArgumentException($"--model '{name}' is not known; known models: {string.Join(", ", ModelZoo.Names)}.");
            var test = DatasetCatalog.Load(p.GetValue(dataset)!, Split.Test, p.GetValue(dataDir), p.GetValue(seed));
            var augmentation = p.GetValue(augment) is { } spec ? Augmentation.Parse(spec) : Augmentation.None;
            int size = augmentation.Resize ?? test.Height;
            using var net = ModelZoo.Create(new ModelSpec(name, test.Channels, size, augmentation.Resize ?? test.Width, test.Classes, p.GetValue(hidden)), 0);
            Safetensors.Load(net, p.GetValue(weights)!);
            var r = Evaluation.Evaluate(net, test, augmenter: augmentation.IsNone ? null : new Augmenter(augmentation, 0));
            Console.WriteLine($"{test.Name}: {r.Describe()}");
            return 0;
        }));
        return command;
    }
}
