// A worker's end of the sharded exchange: its ranges to their owners, its reduced range to everyone.
using Akka.Actor;
using DistClip.Exchange.Bulk;
using DistClip.Protocol;

namespace DistClip.Exchange;

/// <summary>
/// How a worker of a sharded step reaches the others (docs/ARCHITECTURE.md, "The sharded step"). Every transfer is a
/// ranged <see cref="BulkMessage"/> under the pair token the coordinator issued for sender and receiver
/// (<see cref="StepRanges"/>): over the worker's bulk channel to a peer that has an endpoint, told by reference as a
/// <see cref="BulkArrival"/> to a peer in this process. A receiver takes a frame only under a token its plan names
/// (<see cref="OwnerOf"/>), so nobody speaks for another owner. A failed send is reported, not retried: the step's
/// deadline plans it again. Not thread-safe: the worker actor is its only caller.
/// </summary>
public sealed class PeerLinks(CoordinatorLink coordinator, IActorRef self, Func<string, ICanTell> local, Action<string> warn, LinkTraffic? traffic, string workerName)
{
    /// <summary>Sends <paramref name="message"/> (its token set here) to owner <paramref name="to"/> of the plan.</summary>
    public void Send(RangeOwner to, BulkMessage message)
    {
        var frame = message with { Token = to.SendToken };
        if (to.Endpoint is null) local(to.Path).Tell(new BulkArrival(frame), self);
        else if (coordinator.Bulk is not { } bulk) warn($"Worker {workerName} has no bulk channel to reach {to.Endpoint}");
        else if (!bulk.TrySend(to.Endpoint, frame, out var failure)) { warn($"Worker {workerName}: bulk send to its peer at {to.Endpoint} failed ({failure})"); return; }
        traffic?.Sent(workerName, to.Endpoint is null ? LinkKind.InProcess : LinkKind.BulkChannel, Bytes(frame));
    }

    /// <summary>Sends a reduced range to the coordinator: on the bulk channel under this worker's own token, or by reference in one process.</summary>
    public void SendToCoordinator(IActorRef coordinatorActor, BulkMessage message)
    {
        if (coordinator.CoordinatorBulk is var (endpoint, token))
        {
            if (!coordinator.Bulk!.TrySend(endpoint, message with { Token = token }, out var failure))
            {
                warn($"Worker {workerName}: bulk send of its reduced range to the coordinator failed ({failure})");
                return;
            }
            traffic?.Sent(workerName, LinkKind.BulkChannel, Bytes(message));
        }
        else
        {
            coordinatorActor.Tell(new BulkArrival(message), self);
            traffic?.Sent(workerName, LinkKind.InProcess, Bytes(message));
        }
    }

    /// <summary>The owner of <paramref name="plan"/> whose frames come under <paramref name="token"/>; -1 for none.</summary>
    public static int OwnerOf(StepRanges plan, long token) => Array.IndexOf(plan.AcceptTokens, token);

    private static long Bytes(BulkMessage m) => (long)m.Values.Length * sizeof(float);
}
