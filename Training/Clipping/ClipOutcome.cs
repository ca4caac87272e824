// What one clipping pass did.
namespace DistClip.Training.Clipping;

/// <summary>What one clipping pass did.</summary>
/// <param name="PreClipNorm">The total norm of the gradients before clipping (of the policy's norm type).</param>
/// <param name="Coefficient">The factor the gradients were multiplied by (1 when untouched; NaN for value clipping).</param>
/// <param name="Clipped">Whether any gradient element changed.</param>
/// <param name="ClippedUnits">How many units were clipped: the whole gradient (global norm), tensors
/// (per-layer), rows or filters (AGC), elements (value).</param>
/// <param name="Units">How many units were considered.</param>
/// <param name="Threshold">The norm threshold applied, where the policy derives one (AutoClip); else NaN.</param>
public sealed record ClipOutcome(double PreClipNorm, double Coefficient, bool Clipped, int ClippedUnits = 0, int Units = 0, double Threshold = double.NaN)
{
    public bool NormIsFinite => double.IsFinite(PreClipNorm);
}
