// The version of the wire protocol; a coordinator refuses workers of another.
namespace DistClip.Protocol;

/// <summary>The protocol version this build speaks; a coordinator refuses workers of another.</summary>
public static class ProtocolVersion
{
    public const int Current = 3;   // 2: join challenge and proof, shared-memory gradient slots; 3: a bulk token per worker, no sender name in bulk frames
}

