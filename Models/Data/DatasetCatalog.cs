// Finds and loads the named data sets (fashion-mnist, mnist, synthetic) for a split.
namespace DistClip.Models.Data;

