// What one optimizer step did, as reported in logs and metrics.
using DistClip.Training.Clipping;

namespace DistClip.Coordinator;

/// <summary>What one optimizer step did, as reported in logs and metrics.</summary>
/// <param name="GradNorm">Pre-clip global norm of the reduced gradient.</param>
/// <param name="PostClipNorm">The same norm after clipping.</param>
/// <param name="Clip">Everything the clipping policy reported (coefficient, units clipped, threshold).</param>
public sealed record StepOutcome(double GradNorm, double PostClipNorm, ClipOutcome Clip, bool Skipped, double LearningRate)
{
    public double ClipCoefficient => Clip.Coefficient;
    public bool Clipped => Clip.Clipped;
}
