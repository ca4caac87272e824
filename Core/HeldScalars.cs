// TorchSharp Scalars that stay alive until the scope ends: no native call ever reads a freed one.
using TorchSharp;

namespace DistClip.Core;

/// <summary>
/// The Scalar arguments of TorchSharp calls, held until <see cref="Dispose"/>. TorchSharp 0.107 turns a
/// number passed where a <see cref="Scalar"/> is expected (<c>t.mul_(0.9)</c>, <c>t / 2</c>,
/// <c>linalg.vector_norm(t, 2.0)</c>, even the alpha = 1 of <c>t + u</c>) into a native Scalar that nothing references once its handle is
/// read: a garbage collection started by any other thread during the native call lets the finalizer
/// free it while libtorch still reads it, which fails as "Expected false to be true" or "Unknown scalar
/// type" (docs/DECISIONS.md, "Scalars kept alive"). Every number DistClip hands TorchSharp as a Scalar
/// comes from here: <c>using var s = new HeldScalars(); t.mul_(s[0.9]);</c>.
/// </summary>
public sealed class HeldScalars : IDisposable
{
    private readonly List<Scalar> _held = [];

    /// <summary>A native Scalar of <paramref name="value"/>, alive until this scope is disposed.</summary>
    public Scalar this[double value] => Hold(value.ToScalar());

    /// <summary>An integer Scalar (comparisons with labels, counts).</summary>
    public Scalar this[long value] => Hold(value.ToScalar());

    /// <summary>
    /// alpha = 1 for <c>add</c>/<c>add_</c>: TorchSharp's one-argument overloads (<c>t.add(u)</c>,
    /// <c>t + u</c>, <c>t.add_(x)</c>) pass alpha as a temporary, so DistClip always passes this one.
    /// </summary>
    public Scalar One => this[1L];

    private Scalar Hold(Scalar scalar)
    {
        _held.Add(scalar);
        return scalar;
    }

    public void Dispose()
    {
        foreach (var scalar in _held) scalar.Dispose();
        _held.Clear();
    }
}
