// A float array seen as bytes, for reading a stream straight into it.
using System.Buffers;
using System.Runtime.InteropServices;

namespace DistClip.Exchange.Bulk;

/// <summary>
/// The first <c>count</c> floats of an array as <see cref="Memory{T}"/> of bytes, so that an asynchronous stream read
/// fills the array in place (no staging buffer, no second copy of a gradient).
/// </summary>
internal sealed class FloatBytes(float[] values, int count) : MemoryManager<byte>
{
    private GCHandle _pin;

    public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(values.AsSpan(0, count));

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        if (!_pin.IsAllocated) _pin = GCHandle.Alloc(values, GCHandleType.Pinned);
        return new MemoryHandle((byte*)_pin.AddrOfPinnedObject() + elementIndex, _pin, this);
    }

    public override void Unpin()
    {
        if (_pin.IsAllocated) _pin.Free();
    }

    protected override void Dispose(bool disposing) => Unpin();
}
