// Tests that run TorchSharp's own code with temporary Scalars run alone.
using Xunit;

namespace DistClip.Tests;

/// <summary>
/// The collection of test classes whose references call TorchSharp's own optimizers and operators, which
/// pass numbers to libtorch as temporary Scalars that a garbage collection on another thread can free
/// mid-call (docs/DECISIONS.md, "Scalars kept alive"): they run while no other test class runs.
/// </summary>
[CollectionDefinition(nameof(StockTorchSharp), DisableParallelization = true)]
public sealed class StockTorchSharp;
