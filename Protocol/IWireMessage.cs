// Marks the messages that may cross the network; Akka binds them to the DistClip serializer.
namespace DistClip.Protocol;

/// <summary>A DistClip protocol message with a MessagePack contract (see <see cref="Wire.DistClipSerializer"/>).</summary>
public interface IWireMessage;
