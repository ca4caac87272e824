// What one perturbation did to a model over a data set: accuracy under it and how far the outputs moved.
using System.Text.Json.Serialization;

namespace DistClip.Models.Robustness;

/// <summary>
/// The figures of one perturbation over a data set, with the JSON names of <c>eval --json</c> and <c>summary.json</c>.
/// </summary>
/// <param name="Spec">The perturbation's spec, e.g. <c>fgsm:0.03</c>.</param>
/// <param name="Accuracy">Accuracy on the perturbed inputs (pixel accuracy for segmentation); null for regression.</param>
/// <param name="OutputChangeMean">Mean over samples of ‖f(x+δ) − f(x)‖₂ / ‖f(x)‖₂ (<see cref="OutputChange"/>).</param>
/// <param name="OutputChangeP95">Its 95th percentile (nearest rank).</param>
/// <param name="LinfBudgetNormalized">For an attack: its L∞ radius in the model's input units, after normalisation
/// (ε / std, the largest over the channels; ε itself without normalisation); null for noise.</param>
public sealed record RobustnessFigure(
    [property: JsonPropertyName("spec")] string Spec,
    [property: JsonPropertyName("accuracy")] double? Accuracy,
    [property: JsonPropertyName("output_change_mean")] double OutputChangeMean,
    [property: JsonPropertyName("output_change_p95")] double OutputChangeP95,
    [property: JsonPropertyName("linf_budget_normalized"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LinfBudgetNormalized = null)
{
    /// <summary>One line, e.g. <c>fgsm:0.03: accuracy 0.2150  output change mean 0.4120 p95 0.9310  L∞ budget 0.0882 after normalisation</c>.</summary>
    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Spec}: {(Accuracy is double a ? $"accuracy {a:F4}  " : "")}output change mean {OutputChangeMean:F4} p95 {OutputChangeP95:F4}") +
        (LinfBudgetNormalized is double n ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  L∞ budget {n:G4} after normalisation") : "");
}
