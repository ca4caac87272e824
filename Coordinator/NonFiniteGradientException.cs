// The error that ends a run whose global gradient norm is not finite, under --nonfinite error.
namespace DistClip.Coordinator;

/// <summary>Thrown under <see cref="NonFinitePolicy.Error"/> when the global gradient norm is not finite.</summary>
public sealed class NonFiniteGradientException(long step, double norm)
    : Exception($"The global gradient norm at step {step} is {norm}; training stopped (pass --nonfinite skip to skip such steps instead).")
{
    public long Step { get; } = step;
}
