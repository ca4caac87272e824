// A model's identity on the wire: the ordered parameter names and shapes, and a hash of them.
using System.Security.Cryptography;
using System.Text;
using MessagePack;

namespace DistClip.Core;

/// <summary>
/// The architecture fingerprint of a model: parameter names and shapes in canonical order, the total
/// element count, and a SHA-256 over both. Two replicas may exchange flat buffers only when their
/// signatures are equal.
/// </summary>
[MessagePackObject]
public sealed record ModelSignature(
    [property: Key(0)] string Hash,
    [property: Key(1)] long ElementCount,
    [property: Key(2)] string Description)
{
    /// <summary>Builds the signature of the given (name, shape) list, in the order given.</summary>
    public static ModelSignature Of(IEnumerable<(string Name, long[] Shape)> parameters)
    {
        var text = new StringBuilder();
        long count = 0;
        foreach (var (name, shape) in parameters)
        {
            text.Append(name).Append(':').Append(string.Join('x', shape)).Append(';');
            count += shape.Aggregate(1L, (a, b) => a * b);
        }
        var description = text.ToString();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(description)))[..16];
        return new ModelSignature(hash, count, description);
    }
}
