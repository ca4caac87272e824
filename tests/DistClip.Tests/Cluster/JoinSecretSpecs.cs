// Only the cluster's own nodes get in: workers without the join secret, or with another, are refused and change nothing.
using DistClip.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace DistClip.Tests.Cluster;

/// <summary>
/// Real processes on loopback: a coordinator and two workers that share a join secret (<c>--secret-file</c>), and
/// intruders that try to join the same run — one without a secret, one with a wrong one. Each intruder is refused
/// with one line and exit 1, and the run ends with the bits of the same run that no intruder tried.
/// </summary>
public sealed class JoinSecretSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-secret-").FullName;

    private static readonly string[] Job =
        ["--model", "lenet", "--train-samples", "2000", "--global-batch", "32", "--steps", "600", "--seed", "7", "--log-every", "100", "--no-eval"];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string At(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Should_refuse_workers_without_the_secret_and_train_as_if_they_never_came()
    {
        File.WriteAllText(At("secret"), "correct horse battery staple 42\n");
        File.WriteAllText(At("wrong"), "incorrect horse battery staple 7\n");
        int port = LoopbackPorts.Free();
        string seed = $"akka.tcp://distclip@127.0.0.1:{port}";
        using var coordinator = CliProcess.Start(["coordinator", "--port", $"{port}", "--min-workers", "2", "--secret-file", At("secret"), .. Job, "--save", At("run.safetensors")]);
        using var noSecret = CliProcess.Start("worker", "--seed-nodes", seed);
        using var wrongSecret = CliProcess.Start("worker", "--seed-nodes", seed, "--secret-file", At("wrong"));
        using var first = CliProcess.StartWith(new Dictionary<string, string> { ["DISTCLIP_SECRET_FILE"] = At("secret") }, "worker", "--seed-nodes", seed);
        using var second = CliProcess.Start("worker", "--seed-nodes", seed, "--secret-file", At("secret"));

        var intruders = new[] { noSecret.Finish(Timeout), wrongSecret.Finish(Timeout) };
        Assert.All(intruders, r => Assert.Equal(2, r.ExitCode));  // a refusal is configuration: retrying cannot help
        Assert.Contains("distclip: the coordinator refused this worker: the coordinator requires the cluster's join secret", intruders[0].Stderr);
        Assert.Contains("distclip: the coordinator refused this worker: worker ", intruders[1].Stderr);
        Assert.Contains("does not know the cluster's join secret", intruders[1].Stderr);

        var run = coordinator.Finish(Timeout);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Equal(2, run.Stdout.Split('\n').Count(l => l.StartsWith("admitted ", StringComparison.Ordinal)));
        Assert.Contains("does not know the cluster's join secret", run.Stdout + run.Stderr);
        Assert.Equal(0, first.Finish(TimeSpan.FromSeconds(60)).ExitCode);
        Assert.Equal(0, second.Finish(TimeSpan.FromSeconds(60)).ExitCode);

        var reference = CliProcess.Run(Timeout, ["train", .. Job, "--workers", "2", "--save", At("reference.safetensors")]);
        Assert.True(reference.ExitCode == 0, reference.Stderr);
        Assert.True(File.ReadAllBytes(At("reference.safetensors")).AsSpan().SequenceEqual(File.ReadAllBytes(At("run.safetensors"))),
            "the run the intruders tried differs from the same run without them");
    }

    [Fact]
    public void Should_refuse_a_secret_file_that_is_missing_or_too_short_naming_it()
    {
        File.WriteAllText(At("short"), "tiny\n");
        var missing = CliProcess.Run(Timeout, "worker", "--seed-nodes", "akka.tcp://distclip@127.0.0.1:4053", "--secret-file", At("absent"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains($"--secret-file: cannot read {At("absent")}", missing.Stderr);
        var tooShort = CliProcess.Run(Timeout, "coordinator", "--dataset", "synthetic", "--steps", "1", "--secret-file", At("short"));
        Assert.Equal(2, tooShort.ExitCode);
        Assert.Contains("at least 16 bytes (got 4)", tooShort.Stderr);
    }
}
