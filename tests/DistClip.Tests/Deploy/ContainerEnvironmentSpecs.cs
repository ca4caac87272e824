// What a container's environment asks of the real CLI: a wildcard bind reached at its public address, the data set's folder.
using DistClip.Hosting;
using DistClip.Tests.Cli;
using Xunit;

namespace DistClip.Tests.Deploy;

/// <summary>
/// The image and every manifest configure nodes through variables alone: <c>DISTCLIP_HOSTNAME=0.0.0.0</c> (listen on
/// every interface of the container) with <c>DISTCLIP_PUBLIC_HOSTNAME</c> (the address peers reach it at), and
/// <c>DISTCLIP_DATA_DIR</c> (where the data set is mounted). Both were silently broken: the bind check refused 0.0.0.0,
/// and only <c>worker</c> read the data folder's variable.
/// </summary>
public sealed class ContainerEnvironmentSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static Dictionary<string, string> Node(string bind, int port) => new()
    {
        [EnvironmentNames.Hostname] = bind,
        [EnvironmentNames.PublicHostname] = "127.0.0.1",
        [EnvironmentNames.Port] = $"{port}",
    };

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public void Should_train_with_every_node_bound_to_a_wildcard_address_and_reached_at_its_public_hostname(string wildcard)
    {
        int port = LoopbackPorts.Free();
        using var coordinator = CliProcess.StartWith(Node(wildcard, port),
            "coordinator", "--min-workers", "1", "--dataset", "synthetic", "--model", "mlp", "--steps", "5", "--no-eval");
        using var worker = CliProcess.StartWith(Node(wildcard, LoopbackPorts.Free()).With(EnvironmentNames.SeedNodes, $"akka.tcp://distclip@127.0.0.1:{port}"), "worker");
        var run = coordinator.Finish(Timeout);
        var served = worker.Finish(Timeout);
        Assert.True(run.ExitCode == 0, $"coordinator exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.True(served.ExitCode == 0, $"worker exit {served.ExitCode}\n{served.Stdout}\n{served.Stderr}");
        Assert.Contains($"coordinator listening at akka.tcp://distclip@127.0.0.1:{port}", run.Stdout);
        Assert.Contains("done: 5 steps", run.Stdout);
    }

    [Theory]
    [InlineData("coordinator", "0.0.0.0")]
    [InlineData("worker", "::")]
    public void Should_refuse_a_wildcard_bind_without_a_public_hostname_in_one_line(string command, string wildcard)
    {
        var environment = new Dictionary<string, string> { [EnvironmentNames.Hostname] = wildcard, [EnvironmentNames.SeedNodes] = "akka.tcp://distclip@127.0.0.1:1" };
        string[] training = command == "coordinator" ? ["--dataset", "synthetic"] : [];
        var run = CliProcess.StartWith(environment, [command, .. training, "--port", $"{LoopbackPorts.Free()}"]).Finish(Timeout);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.Stderr}");
        Assert.Contains(EnvironmentNames.PublicHostname, lines[0]);
        Assert.Contains($"'{wildcard}'", lines[0]);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("coordinator")]
    public void Should_read_the_data_set_from_DISTCLIP_DATA_DIR(string command)
    {
        var empty = Directory.CreateTempSubdirectory("distclip-data-").FullName;
        try
        {
            var environment = new Dictionary<string, string> { [EnvironmentNames.DataDir] = empty };
            string[] node = command == "coordinator" ? ["--port", $"{LoopbackPorts.Free()}"] : [];
            var run = CliProcess.StartWith(environment, [command, "--dataset", "mnist", "--steps", "1", .. node]).Finish(Timeout);
            Assert.True(run.ExitCode == ExitCodes.BadInput, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            Assert.Contains(empty, run.Stderr);
        }
        finally { Directory.Delete(empty, recursive: true); }
    }

    [Fact]
    public void Should_let_the_data_dir_flag_win_over_DISTCLIP_DATA_DIR()
    {
        var environment = new Dictionary<string, string> { [EnvironmentNames.DataDir] = "/nonexistent-distclip-data" };
        var run = CliProcess.StartWith(environment, "train", "--dataset", "fashion-mnist", "--data-dir", Models.Data.DatasetCatalog.FashionMnistPackageDir,
            "--model", "mlp", "--steps", "2", "--no-eval").Finish(Timeout);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
    }
}

internal static class EnvironmentExtensions
{
    public static Dictionary<string, string> With(this Dictionary<string, string> environment, string name, string value)
    {
        environment[name] = value;
        return environment;
    }
}
