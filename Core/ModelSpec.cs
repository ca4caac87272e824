// What a model needs to be built: its name, the input it sees and the classes it predicts.
using MessagePack;

namespace DistClip.Core;

/// <summary>
/// Everything needed to build a model replica that is identical on every node.
/// </summary>
/// <param name="Name">Model name in the zoo.</param>
/// <param name="Channels">Input channels.</param>
/// <param name="Height">Input height in pixels.</param>
/// <param name="Width">Input width in pixels.</param>
/// <param name="Classes">Number of output classes.</param>
/// <param name="Hidden">Hidden width of the <c>mlp</c> model.</param>
[MessagePackObject]
public sealed record ModelSpec(
    [property: Key(0)] string Name,
    [property: Key(1)] int Channels,
    [property: Key(2)] int Height,
    [property: Key(3)] int Width,
    [property: Key(4)] int Classes,
    [property: Key(5)] int Hidden = 256);
