// Which half of a data set.
namespace DistClip.Models.Data;

/// <summary>Which half of a data set.</summary>
public enum Split { Train, Test }
