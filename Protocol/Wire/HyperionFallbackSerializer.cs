// Akka's fallback serializer for anything that is not a DistClip message: Hyperion with unsafe types refused.
using Akka.Actor;
using Akka.Serialization;

namespace DistClip.Protocol.Wire;

/// <summary>
/// Replaces Akka's Newtonsoft default for <c>System.Object</c>. Akka.Serialization.Hyperion is not
/// available, so this is the small part of it DistClip needs: Hyperion with version tolerance and
/// <c>disallowUnsafeTypes</c> (no deserializing of types that can run code, such as delegates or
/// process-starting types). DistClip's own messages never come here; Akka's cluster messages have their
/// own serializers, so this only sees the odd user-level object.
/// </summary>
public sealed class HyperionFallbackSerializer(ExtendedActorSystem system) : Serializer(system)
{
    public const int Id = 4171;

    private readonly Hyperion.Serializer _hyperion = new(new Hyperion.SerializerOptions(
        versionTolerance: true, preserveObjectReferences: true, surrogates: null, serializerFactories: null,
        knownTypes: null, ignoreISerializable: true, packageNameOverrides: null, disallowUnsafeTypes: true,
        typeFilter: Hyperion.DisabledTypeFilter.Instance));

    public override int Identifier => Id;
    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        _hyperion.Serialize(obj, stream);
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, Type type)
    {
        using var stream = new MemoryStream(bytes);
        return _hyperion.Deserialize<object>(stream);
    }
}
