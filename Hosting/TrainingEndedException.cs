// The trainer's coordinator ended before its last step on its own account: the partial result travels with the cause.
namespace DistClip.Hosting;

/// <summary>
/// Thrown by the trainers when the coordinator stopped before its last step (a non-finite norm under
/// <c>--nonfinite error</c>, its node removed from the cluster, a fault). <see cref="Partial"/> holds the
/// master weights of the last completed step, so that nothing already trained is lost.
/// </summary>
public sealed class TrainingEndedException(TrainingResult partial, Exception cause) : Exception(cause.Message, cause)
{
    public TrainingResult Partial { get; } = partial;
}
