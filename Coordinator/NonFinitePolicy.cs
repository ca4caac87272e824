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

