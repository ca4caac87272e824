// Akka's fallback serializer for anything that is not a DistClip message: Hyperion with unsafe types refused.
using Akka.Actor;
using Akka.Serialization;

namespace DistClip.Protocol.Wire;

/// <summary>
/// Replaces Akka's Newtonsoft default for <c>System.Object</c>. Akka.Serialization.Hyperion is not
/// available, so this is the small part of it DistClip needs: Hyperion with version tolerance and
/// <c>disallowUnsafeTypes</c> (no deserializing of types that can run code, such as delegates or
/// process-starting types). DistClip's own messages never come here; Akka's cluster messages have their
/// own serializers, so this only sees the odd user-level object. DistClip's in-process messages (a stop request,
/// a reachability verdict, a job to run) are refused by type: nobody on the network may send them.
/// </summary>
public sealed class HyperionFallbackSerializer(ExtendedActorSystem system) : Serializer(system)
{
    public const int Id = 4171;

    private readonly Hyperion.Serializer _hyperion = new(new Hyperion.SerializerOptions(
        versionTolerance: true, preserveObjectReferences: true, surrogates: null, serializerFactories: null,
        knownTypes: null, ignoreISerializable: true, packageNameOverrides: null, disallowUnsafeTypes: true,
        typeFilter: new NoDistClipTypes()));

    /// <summary>Refuses every DistClip type: those that travel have a serializer of their own, the others must not travel.</summary>
    private sealed class NoDistClipTypes : Hyperion.ITypeFilter
    {
        public bool IsAllowed(string typeName) => !typeName.StartsWith("DistClip.", StringComparison.Ordinal);
    }

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
