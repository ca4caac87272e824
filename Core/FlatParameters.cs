// Packs a module's parameters (and float buffers) or gradients into one contiguous float32 vector in canonical order, and back.
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace DistClip.Core;

/// <summary>
/// The canonical flat layout of a model, used by every exchange between workers and the coordinator:
/// its parameters in <c>named_parameters()</c> order, each flattened row-major, followed by its float32
/// buffers in <c>named_buffers()</c> order (batch-norm running statistics; integer buffers such as
/// <c>num_batches_tracked</c> are not exchanged). Parameter updates carry values of both parts; shard
/// results carry the gradient sum, then the buffers multiplied by the shard's sample count, so that the
/// coordinator's division by the total count yields the mean gradient and the sample-weighted mean of
/// the workers' running statistics in one pass.
/// </summary>
public sealed class FlatParameters
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _buffers;
    private readonly long[] _offsets;   // of parameters, then buffers; _offsets[^1] = ExchangeLength

    /// <summary>Parameter names in canonical order (PyTorch <c>state_dict</c> names).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of parameter elements (the gradient part of the exchange vector).</summary>
    public long ElementCount { get; }

    /// <summary>Length of the exchange vector: parameters, then float buffers.</summary>
    public long ExchangeLength => _offsets[^1];

    /// <summary>The model's architecture fingerprint (parameter and exchanged buffer names and shapes).</summary>
    public ModelSignature Signature { get; }

    /// <summary>The parameters in canonical order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    public FlatParameters(nn.Module module)
    {
        var named = module.named_parameters().ToArray();
        var buffers = module.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32).ToArray();
        _parameters = named.Select(p => p.parameter).ToArray();
        _buffers = buffers.Select(b => b.buffer).ToArray();
        Names = named.Select(p => p.name).ToArray();
        _offsets = new long[_parameters.Length + _buffers.Length + 1];
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_parameters[i].dtype != ScalarType.Float32)
                throw new ArgumentException($"Parameter '{Names[i]}' is {_parameters[i].dtype}; DistClip exchanges float32 only.", nameof(module));
            _offsets[i + 1] = _offsets[i] + _parameters[i].numel();
        }
        ElementCount = _offsets[_parameters.Length];
        for (int j = 0; j < _buffers.Length; j++)
            _offsets[_parameters.Length + j + 1] = _offsets[_parameters.Length + j] + _buffers[j].numel();
        if (ExchangeLength > Array.MaxLength)
            throw new ArgumentException($"The model has {ExchangeLength} values to exchange; a flat buffer holds at most {Array.MaxLength}.", nameof(module));
        Signature = ModelSignature.Of(named.Select(p => (p.name, p.parameter.shape)).Concat(buffers.Select(b => (b.name, b.buffer.shape))));
    }

    /// <summary>Offset of parameter <paramref name="index"/> in the flat vector.</summary>
    public long OffsetOf(int index) => _offsets[index];

    private IEnumerable<Tensor> All => _parameters.Cast<Tensor>().Concat(_buffers);

    /// <summary>Copies the parameter and buffer values into a new exchange vector.</summary>
    public float[] ReadValues()
    {
        var flat = GC.AllocateUninitializedArray<float>((int)ExchangeLength);  // every element is written below
        ReadValues(flat);
        return flat;
    }

    /// <summary>Copies the parameter and buffer values into <paramref name="destination"/> (an exchange vector).</summary>
    public void ReadValues(Span<float> destination)
    {
        CheckLength(destination.Length, ExchangeLength, "parameter values");
        Read(All, destination);
    }

    /// <summary>
    /// A shard's result: the accumulated gradients (zeros for a parameter without one), then the
    /// buffers multiplied by <paramref name="sampleCount"/> (see the type's summary).
    /// </summary>
    /// <param name="destination">The exchange vector to fill; every element is written.</param>
    public void ReadGradients(int sampleCount, Span<float> destination)
    {
        CheckLength(destination.Length, ExchangeLength, "gradients");
        Read(_parameters.Select(p => p.grad), destination, buffersFrom: _parameters.Length);
        using var scope = NewDisposeScope();
        using var count = new HeldScalars();
        for (int j = 0; j < _buffers.Length; j++)
            CopyOut(_buffers[j] * count[(double)sampleCount], destination, _parameters.Length + j);
    }

    /// <summary>Overwrites parameters and buffers from an exchange vector (no autograd history).</summary>
    public void WriteValues(ReadOnlySpan<float> values)
    {
        CheckLength(values.Length, ExchangeLength, "parameter values");
        using var noGrad = no_grad();
        int i = 0;
        foreach (var t in All) { CopyInto(t, Slice(values, i)); i++; }
    }

    /// <summary>
    /// Writes the gradient part of a reduced exchange vector into each parameter's <c>.grad</c>
    /// (allocated on first use, outside any dispose scope).
    /// </summary>
    public void WriteGradients(ReadOnlySpan<float> reduced)
    {
        CheckLength(reduced.Length, ExchangeLength, "gradients");
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.grad is null)
            {
                var grad = zeros_like(p);
                grad.DetachFromDisposeScope();
                p.grad = grad;
            }
            CopyInto(p.grad!, Slice(reduced, i));
        }
    }

    /// <summary>Writes the statistics part of a reduced exchange vector (the workers' averaged buffers) into the buffers.</summary>
    public void WriteStatistics(ReadOnlySpan<float> reduced)
    {
        CheckLength(reduced.Length, ExchangeLength, "statistics");
        using var noGrad = no_grad();
        for (int j = 0; j < _buffers.Length; j++) CopyInto(_buffers[j], Slice(reduced, _parameters.Length + j));
    }

    /// <summary>Number of float buffer elements (batch-norm running statistics): the tail of the exchange vector.</summary>
    public long StatisticsLength => ExchangeLength - ElementCount;

    /// <summary>Copies the float buffers' values into <paramref name="destination"/> (<see cref="StatisticsLength"/> elements).</summary>
    public void SaveStatistics(Span<float> destination)
    {
        CheckLength(destination.Length, StatisticsLength, "statistics");
        for (int j = 0; j < _buffers.Length; j++)
            CopyOut(_buffers[j], destination, _parameters.Length + j, relativeTo: ElementCount);
    }

    /// <summary>Overwrites the float buffers with values <see cref="SaveStatistics"/> copied.</summary>
    public void RestoreStatistics(ReadOnlySpan<float> saved)
    {
        CheckLength(saved.Length, StatisticsLength, "statistics");
        using var noGrad = no_grad();
        for (int j = 0; j < _buffers.Length; j++)
            CopyInto(_buffers[j], saved.Slice((int)(_offsets[_parameters.Length + j] - ElementCount), (int)_buffers[j].numel()));
    }

    private ReadOnlySpan<float> Slice(ReadOnlySpan<float> flat, int index) =>
        flat.Slice((int)_offsets[index], (int)(_offsets[index + 1] - _offsets[index]));

    /// <summary>Copies each tensor into its slice of <paramref name="flat"/>; a missing one (no gradient yet) leaves zeros.</summary>
    private void Read(IEnumerable<Tensor?> tensors, Span<float> flat, int buffersFrom = int.MaxValue)
    {
        using var scope = NewDisposeScope();
        int i = 0;
        foreach (var t in tensors)
        {
            if (t is not null && i < buffersFrom) CopyOut(t, flat, i);
            else if (i < buffersFrom) flat.Slice((int)_offsets[i], (int)(_offsets[i + 1] - _offsets[i])).Clear();
            i++;
        }
    }

    /// <param name="relativeTo">The flat offset where <paramref name="flat"/> begins (0: a whole exchange vector).</param>
    private void CopyOut(Tensor t, Span<float> flat, int index, long relativeTo = 0)
    {
        // A device tensor is staged on the host: this is a device-to-host sync point.
        var host = t.device_type == DeviceType.CPU ? t.contiguous() : t.cpu().contiguous();
        HostFloats(host).CopyTo(flat.Slice((int)(_offsets[index] - relativeTo), (int)(_offsets[index + 1] - _offsets[index])));
    }

    private static void CopyInto(Tensor target, ReadOnlySpan<float> source)
    {
        if (target.device_type == DeviceType.CPU && target.is_contiguous())
        {
            source.CopyTo(HostFloats(target));
            return;
        }
        using var scope = NewDisposeScope();
        var host = empty(target.shape, ScalarType.Float32);
        source.CopyTo(HostFloats(host));
        target.copy_(host);
    }

    // The native memory of a contiguous float32 CPU tensor as a span: a plain memory copy, some 30x
    // faster than TensorAccessor's element-wise CopyTo/CopyFrom on a 60k-element layer.
    private static Span<float> HostFloats(Tensor contiguousCpu) => MemoryMarshal.Cast<byte, float>(contiguousCpu.bytes);

    private static void CheckLength(int length, long expected, string what)
    {
        if (length != expected)
            throw new ArgumentException($"Flat {what} have {length} elements; this model exchanges {expected}.");
    }
}
