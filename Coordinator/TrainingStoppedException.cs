// The coordinator ended without finishing its steps: what it had done by then travels with the failure.
namespace DistClip.Coordinator;

/// <summary>
/// The run ended before its last step because of <see cref="Exception.InnerException"/> (a non-finite
/// norm under <c>--nonfinite error</c>, or the coordinator stopped with its node). <see cref="Summary"/>
/// describes the last completed step: the master weights hold exactly that step, so a host can still save them.
/// </summary>
public sealed class TrainingStoppedException(TrainingSummary summary, Exception cause) : Exception(cause.Message, cause)
{
    public TrainingSummary Summary { get; } = summary;
}
