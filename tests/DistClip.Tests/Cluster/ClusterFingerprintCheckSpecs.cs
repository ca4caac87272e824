// The admission check on its own: which differences of compute and data refuse a worker, and which do not.
using DistClip.Coordinator;
using DistClip.Core;
using DistClip.Protocol;
using Xunit;

namespace DistClip.Tests.Cluster;

public sealed class ClusterFingerprintCheckSpecs
{
    private static readonly ComputeFingerprint Cpu = new("cpu", 1, "0.107.0.0", "avx512", "", null, "AuthenticAMD");
    private static readonly ModelSignature Signature = ModelSignature.Of([("w", [2L])]);

    private static RegisterWorker Worker(ComputeFingerprint compute, string hash = "h", int count = 100) =>
        new("10.0.0.7:4060/worker-0", Signature, compute.Device, Compute: compute, DataHash: hash, DataCount: count);

    private static ClusterFingerprint Cluster(bool allowMixed = false) => new(Cpu, "fashion-mnist/train", 100, "h", allowMixed);

    [Fact]
    public void Should_admit_a_worker_that_computes_like_the_coordinator_on_the_same_data() =>
        Assert.Null(Cluster().Refusal(Worker(Cpu), firstWorker: null));

    [Theory]
    [InlineData("threads", "worker 10.0.0.7:4060/worker-0: --threads 2, the cluster runs 1")]
    [InlineData("vendor", "a CPU of GenuineIntel, the cluster's is of AuthenticAMD")]
    [InlineData("vector", "a CPU with avx2, the cluster's has avx512")]
    [InlineData("overrides", "kernel overrides 'MKL_CBWR=AVX2', the cluster's ''")]
    [InlineData("torch", "TorchSharp 0.106.0.0, the cluster runs 0.107.0.0")]
    public void Should_refuse_a_cpu_worker_that_computes_otherwise_naming_the_field(string field, string named)
    {
        var other = field switch
        {
            "threads" => Cpu with { Threads = 2 },
            "vendor" => Cpu with { CpuVendor = "GenuineIntel" },
            "vector" => Cpu with { CpuVector = "avx2" },
            "overrides" => Cpu with { NumericsEnvironment = "MKL_CBWR=AVX2" },
            _ => Cpu with { Torch = "0.106.0.0" },
        };
        var refusal = Cluster().Refusal(Worker(other), firstWorker: null);
        Assert.NotNull(refusal);
        Assert.Contains(named, refusal);
        Assert.Null(Cluster(allowMixed: true).Refusal(Worker(other), firstWorker: null));   // admitted, with a warning, under --allow-mixed-compute
        Assert.NotNull(Cluster(allowMixed: true).MixedCompute(Worker(other), firstWorker: null));
    }

    [Fact]
    public void Should_take_the_devices_from_the_first_worker_and_compare_no_cpu_kernels_for_cuda()
    {
        var gpu = Cpu with { Device = "cuda", Threads = 4, CpuVector = "avx2" };   // its CPU threads and kernels do not compute a shard
        Assert.Null(Cluster().Refusal(Worker(gpu), firstWorker: null));
        Assert.Null(Cluster().Refusal(Worker(gpu), firstWorker: gpu));
        Assert.Contains("--device cpu, the cluster runs cuda", Cluster().Refusal(Worker(Cpu), firstWorker: gpu));
    }

    [Theory]
    [InlineData("other", 100, "the same number of samples, 100, but the samples it was asked to hash differ")]
    [InlineData("h", 99, "99 samples, the coordinator's has 100")]
    public void Should_refuse_a_worker_whose_data_differs_even_with_mixed_compute_allowed(string hash, int count, string named)
    {
        var refusal = Cluster(allowMixed: true).Refusal(Worker(Cpu, hash, count), firstWorker: null);
        Assert.NotNull(refusal);
        Assert.Contains("its copy of fashion-mnist/train is not the coordinator's", refusal);
        Assert.Contains(named, refusal);
    }
}
