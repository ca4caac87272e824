// What a model needs to be built: its name, the input it sees and the classes it predicts.
namespace DistClip.Models.Zoo;

/// <summary>
/// Everything needed to build a model replica that is identical on every node.
/// </summary>
/// <param name="Name">Model name in the zoo (<see cref="ModelZoo.Names"/>).</param>
/// <param name="Channels">Input channels.</param>
/// <param name="Height">Input height in pixels.</param>
/// <param name="Width">Input width in pixels.</param>
/// <param name="Classes">Number of output classes.</param>
/// <param name="Hidden">Hidden width of the <c>mlp</c> model.</param>
public sealed record ModelSpec(string Name, int Channels, int Height, int Width, int Classes, int Hidden = 256);
