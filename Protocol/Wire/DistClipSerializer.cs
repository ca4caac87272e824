// Akka serializer for DistClip's protocol messages: MessagePack contracts behind versioned string manifests.
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using MessagePack;

namespace DistClip.Protocol.Wire;

/// <summary>
/// Serializes every <see cref="IWireMessage"/> with MessagePack (explicit integer keys). The manifest
/// names the message and the protocol version (<c>compute-gradients.v1</c>); a manifest this build does
/// not know — a peer of another version — fails with a message that says so. Input is treated as
/// untrusted (MessagePack's hash-collision-resistant, depth-limited mode).
/// </summary>
public sealed class DistClipSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka serializer id (user serializers use ids above 100).</summary>
    public const int Id = 4170;

    private static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    private static readonly Dictionary<Type, string> ManifestOf = new()
    {
        [typeof(JoinRequest)] = "join-request",
        [typeof(JobOffer)] = "job-offer",
        [typeof(RegisterWorker)] = "register-worker",
        [typeof(WorkerAdmitted)] = "worker-admitted",
        [typeof(WorkerRefused)] = "worker-refused",
        [typeof(TrainingFinished)] = "training-finished",
        [typeof(ComputeGradients)] = "compute-gradients",
        [typeof(ShardGradients)] = "shard-gradients",
        [typeof(ShardRefused)] = "shard-refused",
        [typeof(ParameterUpdate)] = "parameter-update",
        [typeof(GradientChunk)] = "gradient-chunk",
        [typeof(ParameterChunk)] = "parameter-chunk",
        [typeof(ShardGradientsShared)] = "shard-gradients-shared",
        [typeof(ParametersShared)] = "parameters-shared",
        [typeof(JoinChallenge)] = "join-challenge",
        [typeof(JoinProof)] = "join-proof",
        [typeof(StepRanges)] = "step-ranges",
        [typeof(ShardComputed)] = "shard-computed",
        [typeof(ClipDecided)] = "clip-decided",
        [typeof(ReplicaStateChunk)] = "replica-state-chunk",
        [typeof(ReplicaHashReport)] = "replica-hash-report",
    };

    private static readonly string VersionSuffix = $".v{ProtocolVersion.Current}";
    private static readonly Dictionary<string, Type> TypeOf = ManifestOf.ToDictionary(kv => kv.Value + VersionSuffix, kv => kv.Key);

    /// <summary>The message types this serializer knows, for tests.</summary>
    public static IReadOnlyCollection<Type> MessageTypes => ManifestOf.Keys;

    public override int Identifier => Id;

    public override string Manifest(object o) => ManifestOf.TryGetValue(o.GetType(), out var name)
        ? name + VersionSuffix
        : throw new ArgumentException($"{o.GetType()} is not a DistClip wire message.", nameof(o));

    public override byte[] ToBinary(object obj) => MessagePackSerializer.Serialize(obj.GetType(), obj, Options);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypeOf.TryGetValue(manifest, out var type))
            throw new SerializationException(
                $"Unknown DistClip message '{manifest}': the peer speaks another DistClip protocol version (this node speaks v{ProtocolVersion.Current}).");
        try { return MessagePackSerializer.Deserialize(type, bytes, Options)!; }
        catch (MessagePackSerializationException e) { throw new SerializationException($"Malformed DistClip message '{manifest}': {e.Message}", e); }
    }
}
