// Splits a global batch into contiguous, near-equal shards, one per worker.
namespace DistClip.Coordinator.Steps;

/// <summary>
/// Shard r of a global batch of B samples over N shards is the contiguous slice starting at
/// r·⌊B/N⌋ + min(r, B mod N), of length ⌊B/N⌋ (+1 for the first B mod N shards). Shards are disjoint
/// and cover the batch; some are empty when B &lt; N.
/// </summary>
public static class ShardPlan
{
    public static int[][] Split(int[] globalBatch, int shards)
    {
        if (shards < 1) throw new ArgumentOutOfRangeException(nameof(shards), shards, "must be at least 1");
        int quotient = globalBatch.Length / shards, remainder = globalBatch.Length % shards;
        var result = new int[shards][];
        int start = 0;
        for (int r = 0; r < shards; r++)
        {
            int length = quotient + (r < remainder ? 1 : 0);
            result[r] = globalBatch[start..(start + length)];
            start += length;
        }
        return result;
    }
}
