// The second clipping step's result: what every replica applies.
namespace DistClip.Training.Clipping;

/// <summary>
/// What the coordinator decides from the measured norms, for every replica to apply the same way.
/// </summary>
/// <param name="PreClipNorm">The global norm of the policy's norm type (float32, as measured).</param>
/// <param name="Coefficient">The global-norm policies' factor <c>min(1, threshold / (norm + 1e-6))</c> in float32; 1 without
/// clipping; NaN for the per-tensor policies (value, layer, AGC), which every replica applies on its own.</param>
/// <param name="Threshold">The norm threshold the coefficient was formed with (AutoClip's percentile, the global-norm
/// policy's maximum); else NaN.</param>
public sealed record ClipDecision(float PreClipNorm, float Coefficient, double Threshold)
{
    /// <summary>A non-finite global norm: nothing is applied, and the step is skipped or the run stops (by policy).</summary>
    public bool NormIsFinite => float.IsFinite(PreClipNorm);
}
