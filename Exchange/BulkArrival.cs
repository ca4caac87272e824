// A frame that arrived on an actor's bulk channel, told to that actor.
using DistClip.Exchange.Bulk;
using DistClip.Protocol;

namespace DistClip.Exchange;

/// <summary>A frame that arrived on the actor's bulk channel, told to the actor (local only, never serialized).</summary>
public sealed record BulkArrival(BulkMessage Message) : IDataPlaneMessage;
