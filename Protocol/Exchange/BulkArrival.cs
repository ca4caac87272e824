// A frame that arrived on an actor's bulk channel, told to that actor.
using DistClip.Protocol.Bulk;

namespace DistClip.Protocol.Exchange;

/// <summary>A frame that arrived on the actor's bulk channel, told to the actor (local only, never serialized).</summary>
public sealed record BulkArrival(BulkMessage Message) : IDataPlaneMessage;
