// What a bulk frame carries.
using DistClip.Protocol;

namespace DistClip.Exchange.Bulk;

/// <summary>What a bulk frame carries.</summary>
public enum BulkKind : byte
{
    /// <summary>A <see cref="ShardGradients"/>, worker → coordinator.</summary>
    Gradients = 1,
    /// <summary>A <see cref="ParameterUpdate"/>, coordinator → worker.</summary>
    Parameters = 2,
}
