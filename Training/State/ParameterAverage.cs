// The exponential moving average of a model's parameters (--ema).
using DistClip.Core;
using static TorchSharp.torch;

namespace DistClip.Training.State;

/// <summary>ema ← decay·ema + (1 − decay)·θ after every optimizer step, one tensor per parameter in canonical order.</summary>
public sealed class ParameterAverage : IDisposable
{
    private readonly FlatParameters _flat;
    private readonly double _decay;
    private readonly Tensor[] _average;

    public ParameterAverage(FlatParameters flat, double decay)
    {
        if (decay is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "must be in [0, 1)");
        (_flat, _decay) = (flat, decay);
        using var noGrad = no_grad();
        _average = flat.Parameters.Select(p => { var copy = p.detach().clone(); copy.DetachFromDisposeScope(); return copy; }).ToArray();
    }

    /// <summary>Moves the average towards the current parameters.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        using var s = new HeldScalars();
        for (int i = 0; i < _average.Length; i++) _average[i].mul_(s[_decay]).add_(_flat.Parameters[i], s[1 - _decay]);
    }

    /// <summary>The average, flat in canonical order: the parameters replaced by their averages, the buffers as they are.</summary>
    public float[] Values()
    {
        var flat = _flat.ReadValues();
        for (int i = 0; i < _average.Length; i++)
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_average[i].bytes).CopyTo(flat.AsSpan((int)_flat.OffsetOf(i)));
        return flat;
    }

    /// <summary>Writes the average as safetensors with the parameters' names.</summary>
    public void Write(string path) => Safetensors.Write(_flat.Names.Zip(_average), path);

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public void Read(string path)
    {
        var average = Safetensors.Read(path);
        using var noGrad = no_grad();
        for (int i = 0; i < _average.Length; i++)
        {
            if (!average.TryGetValue(_flat.Names[i], out var entry) || !entry.Shape.SequenceEqual(_average[i].shape))
                throw new InvalidDataException($"{Path.GetFileName(path)}: tensor '{_flat.Names[i]}' is missing or has another shape.");
            using var source = tensor(entry.Values, entry.Shape);
            _average[i].copy_(source);
        }
    }

    public void Dispose()
    {
        foreach (var t in _average) t.Dispose();
    }
}
