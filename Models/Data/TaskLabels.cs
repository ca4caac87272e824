// Label values with a meaning of their own.
namespace DistClip.Models.Data;

/// <summary>Special label values shared by data sets, losses and metrics.</summary>
public static class TaskLabels
{
    /// <summary>A pixel that counts for nothing (object borders, "void" in PASCAL VOC, crop padding).</summary>
    public const int Ignore = 255;
}
