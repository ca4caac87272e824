// Splits large gradients and parameters into bounded chunks, and puts them back together.
using System.Runtime.InteropServices;
using Akka.Actor;
using DistClip.Protocol;

namespace DistClip.Exchange.Chunks;

/// <summary>
/// The data plane over remoting: a message with a model-sized float array is sent to a remote actor
/// as chunks of at most <see cref="ChunkElements"/> floats (raw little-endian bytes, so MessagePack adds
/// no per-element overhead), and to a local actor whole, by reference.
/// </summary>
public static class Chunking
{
    /// <summary>Floats per chunk: 512 KiB of payload, well inside the remoting frame size of the HOCON defaults.</summary>
    public const int ChunkElements = 128 * 1024;

    public static IEnumerable<GradientChunk> Split(ShardGradients g, int chunkElements = ChunkElements) =>
        Pieces(g.GradientSum, chunkElements).Select(p => new GradientChunk(g.Step, g.Version, g.Shard, g.SampleCount, g.LossSum, g.GradientSum.Length, p.Count, p.Offset, p.Data));

    public static IEnumerable<ParameterChunk> Split(ParameterUpdate u, int chunkElements = ChunkElements) =>
        Pieces(u.Values, chunkElements).Select(p => new ParameterChunk(u.Version, u.Values.Length, p.Count, p.Offset, p.Data));

    /// <summary>Sends <paramref name="message"/> whole to a local actor, as chunks to a remote one.</summary>
    public static void Send(IActorRef target, ShardGradients message, IActorRef sender)
    {
        if (target.Path.Address.HasLocalScope) target.Tell(message, sender);
        else foreach (var chunk in Split(message)) target.Tell(chunk, sender);
    }

    /// <inheritdoc cref="Send(IActorRef, ShardGradients, IActorRef)"/>
    public static void Send(IActorRef target, ParameterUpdate message, IActorRef sender)
    {
        if (target.Path.Address.HasLocalScope) target.Tell(message, sender);
        else foreach (var chunk in Split(message)) target.Tell(chunk, sender);
    }

    private static IEnumerable<(int Count, int Offset, byte[] Data)> Pieces(float[] values, int chunkElements)
    {
        if (chunkElements < 1) throw new ArgumentOutOfRangeException(nameof(chunkElements), chunkElements, "must be at least 1");
        int count = Math.Max(1, (values.Length + chunkElements - 1) / chunkElements);
        for (int c = 0; c < count; c++)
        {
            int offset = c * chunkElements, length = Math.Min(chunkElements, values.Length - offset);
            yield return (count, offset, MemoryMarshal.AsBytes(values.AsSpan(offset, length)).ToArray());
        }
    }
}

