// What the coordinator does when the global gradient norm is NaN or infinite.
namespace DistClip.Coordinator;

/// <summary>Handling of a non-finite global gradient norm; never lets NaN reach the weights.</summary>
public enum NonFinitePolicy
{
    /// <summary>Skip the optimizer step, count and log it, and go on (the default).</summary>
    Skip,
    /// <summary>Stop training with <see cref="NonFiniteGradientException"/>.</summary>
    Error,
}

/// <summary>Thrown under <see cref="NonFinitePolicy.Error"/> when the global gradient norm is not finite.</summary>
public sealed class NonFiniteGradientException(long step, double norm)
    : Exception($"The global gradient norm at step {step} is {norm}; training stopped (pass --nonfinite skip to skip such steps instead).")
{
    public long Step { get; } = step;
}
