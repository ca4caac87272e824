// Records what DistClip's coordinator held at every step of an embedded run: the parameters and the clipped gradient it applied.
using DistClip.Coordinator;
using DistClip.Core;
using DistClip.Hosting;
using DistClip.Models.Data;

namespace DistClip.Tests.Equivalence;

/// <summary>
/// An embedded DistClip run with the coordinator's state read at every step boundary: <see cref="Parameters"/>[t] is what
/// step t started from (t = 0 … T), <see cref="Gradients"/>[t] the reduced, clipped mean gradient step t applied.
/// The observer is called on the coordinator's thread right after the step, so the master weights hold exactly that step.
/// </summary>
public sealed class StepTrajectory : ITrainingObserver
{
    private readonly MasterWeights _master;
    private readonly FlatParameters _flat;

    public List<float[]> Parameters { get; } = [];
    public List<double[]> Gradients { get; } = [];
    public List<StepReport> Reports { get; } = [];

    private StepTrajectory(MasterWeights master)
    {
        (_master, _flat) = (master, new FlatParameters(master.Model));
        Parameters.Add(Values());
    }

    public static StepTrajectory Record(TrainingSettings settings, IImageDataset data)
    {
        var setup = CoordinatorSetup.Create(settings, data, minWorkers: settings.Workers);
        var trajectory = new StepTrajectory(setup.Master);
        var result = EmbeddedTrainer.RunAsync(setup, settings, trajectory, data).WaitAsync(TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        result.Model.Dispose();
        return trajectory;
    }

    public void OnStep(StepReport report)
    {
        Reports.Add(report);
        var gradient = new float[_flat.ExchangeLength];
        _flat.ReadGradients(1, gradient);
        Gradients.Add(gradient.Take((int)_flat.ElementCount).Select(g => (double)g).ToArray());
        Parameters.Add(Values());
    }

    private float[] Values()
    {
        var values = new float[_master.ExchangeLength];
        _master.CopyValuesTo(values);
        return values;
    }
}
