// What a run leaves: its summary, the trained master model and its flat parameters.
using DistClip.Coordinator;
using static TorchSharp.torch;
using DistClip.Core;

namespace DistClip.Hosting;

/// <summary>The outcome of a run: the summary, the trained master model and its flat parameters.</summary>
/// <param name="AverageParameters">The exponential moving average of the parameters (with <c>--ema</c>), flat.</param>
public sealed record TrainingResult(TrainingSummary Summary, nn.Module<Tensor, Tensor> Model, float[] Parameters, ModelSpec Spec, float[]? AverageParameters = null);
