// The first clipping step: per-tensor norms of the gradient, and their combination into the global norm.
using static TorchSharp.torch;

namespace DistClip.Training.Clipping;

/// <summary>
/// Measuring, the first of the three clipping steps (measure, decide, apply): the p-norm of each gradient tensor, and
/// the global norm formed from them exactly as <c>clip_grad_norm_</c> forms it, <c>‖(‖g_1‖_p, …, ‖g_k‖_p)‖_p</c>. The
/// per-tensor norms are float32 numbers on the host: in the central exchange one process measures every tensor; in the
/// sharded exchange each worker measures the tensors assigned to it and the coordinator combines them — the same
/// kernel on the same whole tensors, the same combination, so the same bits.
/// </summary>
public static class ClipMeasure
{
    /// <summary>‖g_t‖_p of every tensor, in order (one copy to the host).</summary>
    public static float[] TensorNorms(IReadOnlyList<Tensor> gradients, double normType)
    {
        if (gradients.Count == 0) return [];
        using var scope = NewDisposeScope();
        var norms = stack(gradients.Select(g => GradientClipping.VectorNorm(g, normType)).ToArray()).cpu();
        return norms.data<float>().ToArray();
    }

    /// <summary>The global norm of per-tensor norms in tensor order, as <c>clip_grad_norm_</c> combines them (float32).</summary>
    public static float Combine(ReadOnlySpan<float> tensorNorms, double normType)
    {
        if (tensorNorms.IsEmpty) return 0f;
        using var scope = NewDisposeScope();
        return GradientClipping.VectorNorm(tensor(tensorNorms.ToArray()), normType).item<float>();
    }

    /// <summary>The global p-norm of <paramref name="gradients"/>: <see cref="Combine"/> of <see cref="TensorNorms"/>.</summary>
    public static float GlobalNorm(IReadOnlyList<Tensor> gradients, double normType) => Combine(TensorNorms(gradients, normType), normType);
}
