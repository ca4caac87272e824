// What a checkpoint records beside the master state's files: the run's position, counters and configuration.
using System.Text.Json;
using System.Text.Json.Serialization;
using DistClip.Coordinator;

namespace DistClip.Hosting.Checkpoints;

/// <summary>
/// The <c>state.json</c> of a checkpoint. With the files of <see cref="Training.State.StateFiles"/> it is the whole training state:
/// the data order's position and the schedule's are the step count (both are functions of it), AutoClip's memory is
/// <see cref="ClipHistory"/>, and <see cref="Trajectory"/> is the configuration a resumed run must keep. <see cref="Compute"/>
/// is the cluster's compute it was written on (<see cref="Core.ComputeFingerprint.Describe"/>; null in older checkpoints):
/// a run resumed on other compute goes on, but says it is no longer bit-identical to the uninterrupted run.
/// </summary>
public sealed record CheckpointState(
    int Protocol,
    string ModelHash,
    string ModelDescription,
    long Step,
    long Version,
    long Skipped,
    long Clipped,
    long Samples,
    IReadOnlyList<double> ClipHistory,
    SortedDictionary<string, string> Trajectory,
    string? Compute = null)
{
    public const string FileName = "state.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public RunCounters Counters => new(Step, Version, Skipped, Clipped, Samples);

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <exception cref="InvalidDataException">Not a state file of this format.</exception>
    public static CheckpointState Read(string path)
    {
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), Json); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException) { throw new InvalidDataException($"{path} is not a readable checkpoint state ({e.Message}).", e); }
        if (state?.Trajectory is null || state.ClipHistory is null || state.ModelHash is null) throw new InvalidDataException($"{path} is not a complete checkpoint state.");
        return state;
    }
}
