// What a run's settings resolve to before training: its training split and the model shaped for it.
using DistClip.Core;
using DistClip.Models.Data;

namespace DistClip.Hosting;

/// <summary>The data and the model spec a <see cref="TrainingSettings"/> asks for, as every deployment resolves them.</summary>
public static class RunInputs
{
    /// <summary>The data set's training split, shortened to <see cref="TrainingSettings.TrainSamples"/>.</summary>
    public static IImageDataset LoadTrainSplit(TrainingSettings s)
    {
        var train = DatasetCatalog.Load(s.Dataset, Split.Train, s.DataDir, s.Seed);
        return s.TrainSamples is int n ? DatasetSubset.First(train, n) : train;
    }

    /// <summary>The model the settings ask for, shaped for the data set's images (after any resize).</summary>
    public static ModelSpec SpecFor(TrainingSettings s, IImageDataset data) =>
        new(s.Model, data.Channels, s.Augmentation.Resize ?? data.Height, s.Augmentation.Resize ?? data.Width, data.Classes, s.Hidden);
}
