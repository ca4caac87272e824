// Is a shard's result usable: finite gradient sum and loss.
using System.Numerics;

namespace DistClip.Training.Reduction;

/// <summary>The check every shard result passes before it is reduced (by the coordinator, or by the worker that computed it in the sharded exchange).</summary>
public static class ShardCheck
{
    /// <summary>Whether every value is finite (no NaN, no ±∞): x − x is 0 exactly for finite x and NaN otherwise.</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var zero = Vector<float>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                if (!Vector.EqualsAll(v - v, zero)) return false;
            }
        }
        for (; i < values.Length; i++) if (!float.IsFinite(values[i])) return false;
        return true;
    }
}
