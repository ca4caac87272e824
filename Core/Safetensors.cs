// Reads and writes the safetensors format with PyTorch state_dict names (float32 tensors).
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace DistClip.Core;

/// <summary>
/// The safetensors file format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header length, a UTF-8 JSON header mapping each tensor name to its dtype, shape and byte range,
/// then the raw little-endian data. DistClip writes and reads float32 ("F32") tensors.
/// </summary>
public static class Safetensors
{
    /// <summary>Writes the module's <c>state_dict</c> (parameters and buffers) as float32 safetensors.</summary>
    public static void Save(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(module.state_dict().Select(kv => (kv.Key, kv.Value)), path, metadata);

    /// <summary>Writes named tensors as float32 safetensors (through a temporary file: never half a file under the name).</summary>
    public static void Write(IEnumerable<(string Name, Tensor Value)> state, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        long offset = 0;
        var blobs = new List<byte[]>();
        using (var scope = NewDisposeScope())
        {
            foreach (var (name, t) in state)
            {
                var host = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
                var bytes = new byte[host.numel() * sizeof(float)];
                host.data<float>().CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan()), 0, 0);
                header[name] = new JsonObject
                {
                    ["dtype"] = "F32",
                    ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                    ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
                };
                offset += bytes.Length;
                blobs.Add(bytes);
            }
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padding = (8 - headerBytes.Length % 8) % 8;  // the format recommends 8-byte aligned data
        var temp = path + ".tmp";
        try
        {
            using (var file = File.Create(temp))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(headerBytes.Length + padding));
                file.Write(length);
                file.Write(headerBytes);
                for (int i = 0; i < padding; i++) file.WriteByte((byte)' ');
                foreach (var blob in blobs) file.Write(blob);
            }
            File.Move(temp, path, overwrite: true);  // never leave a half-written weights file behind
        }
        catch (IOException)
        {
            File.Delete(temp);  // a full disk: nor a half-written temporary file
            throw;
        }
    }

    /// <summary>
    /// Loads float32 tensors from <paramref name="path"/> into the module's parameters and buffers by
    /// name. Every name of the module must be present with the same shape, and no extra names.
    /// </summary>
    /// <exception cref="InvalidDataException">Corrupt file, missing or extra tensor, or shape mismatch; the message names it.</exception>
    public static void Load(nn.Module module, string path)
    {
        var tensors = Read(path);
        var state = module.state_dict();
        var extra = tensors.Keys.Except(state.Keys).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{path}: tensor '{extra[0]}' is not in model '{module.GetName()}' (expected names like '{state.Keys.FirstOrDefault()}').");
        using var noGrad = no_grad();
        foreach (var (name, target) in state)
        {
            if (!tensors.TryGetValue(name, out var entry))
                throw new InvalidDataException($"{path}: tensor '{name}' is missing.");
            if (!entry.Shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{path}: tensor '{name}' has shape [{string.Join(", ", entry.Shape)}], the model needs [{string.Join(", ", target.shape)}].");
            using var source = tensor(entry.Values, entry.Shape);
            target.copy_(source);
        }
    }

    /// <summary>Reads every tensor of a float32 safetensors file.</summary>
    public static Dictionary<string, (long[] Shape, float[] Values)> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Weights file not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: too short to be safetensors.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"{path}: header length {headerLength} exceeds the file.");
        JsonObject header;
        try { header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))?.AsObject() ?? throw new InvalidDataException($"{path}: empty header."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: header is not valid JSON ({e.Message}).", e); }
        int dataStart = 8 + (int)headerLength;
        var result = new Dictionary<string, (long[], float[])>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__" || node is null) continue;
            var dtype = (string?)node["dtype"];
            if (dtype != "F32") throw new InvalidDataException($"{path}: tensor '{name}' is {dtype}; DistClip reads F32 only.");
            var shape = node["shape"]!.AsArray().Select(d => (long)d!).ToArray();
            var range = node["data_offsets"]!.AsArray().Select(d => (long)d!).ToArray();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (range.Length != 2 || range[1] - range[0] != count * sizeof(float) || dataStart + range[1] > bytes.Length)
                throw new InvalidDataException($"{path}: tensor '{name}' has a byte range that does not fit its shape or the file.");
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(dataStart + (int)range[0], (int)(range[1] - range[0]))).ToArray();
            result[name] = (shape, values);
        }
        return result;
    }
}
