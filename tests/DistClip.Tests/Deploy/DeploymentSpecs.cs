// The deployment files agree with the CLI: variables it reads, a seed address the coordinator answers at, ports it opens.
using DistClip.Cli.Commands;
using DistClip.Hosting;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace DistClip.Tests.Deploy;

public class DeploymentSpecs
{
    private static readonly string Deploy = Path.Combine(RepositoryRoot(), "deploy");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DistClip.sln"))) return dir.FullName;
        throw new InvalidOperationException("DistClip.sln not found above the test binaries.");
    }

    private static List<YamlMappingNode> Documents(string relativePath)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Deploy, relativePath))) yaml.Load(reader);
        return yaml.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params object[] path)
    {
        foreach (var step in path)
            node = step is int i ? ((YamlSequenceNode)node)[i] : ((YamlMappingNode)node)[new YamlScalarNode((string)step)];
        return node;
    }

    /// <summary>The first container's environment of the workload named <paramref name="name"/>: name → value (null for valueFrom).</summary>
    private static List<(string Name, string? Value)> Environment(string file, string name)
    {
        var workload = Documents(file).Single(d => d.Children.ContainsKey("kind") && At(d, "kind").ToString() is "StatefulSet" or "Deployment" && At(d, "metadata", "name").ToString() == name);
        return ((YamlSequenceNode)At(workload, "spec", "template", "spec", "containers", 0, "env"))
            .Cast<YamlMappingNode>()
            .Select(e => (At(e, "name").ToString(), e.Children.ContainsKey("value") ? At(e, "value").ToString() : null))
            .ToList();
    }

    private static List<string> Ports(string file, string name)
    {
        var workload = Documents(file).Single(d => d.Children.ContainsKey("kind") && At(d, "metadata", "name").ToString() == name && At(d, "kind").ToString() != "Service");
        return ((YamlSequenceNode)At(workload, "spec", "template", "spec", "containers", 0, "ports")).Select(p => At(p, "containerPort").ToString()).ToList();
    }

    [Fact]
    public void Should_set_only_variables_the_cli_reads()
    {
        var used = Environment("k8s/base/coordinator.yaml", "distclip-coordinator").Concat(Environment("k8s/base/workers.yaml", "distclip-worker")).Select(e => e.Name)
            .Concat(Documents("compose.yaml").SelectMany(d => ((YamlMappingNode)At(d, "services")).Children.Values)
                .SelectMany(s => ((YamlMappingNode)At(s, "environment")).Children.Keys.Select(k => k.ToString())))
            .Distinct().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.Contains(name, EnvironmentNames.All));
    }

    [Fact]
    public void Should_point_workers_at_the_address_the_coordinator_answers_at_and_open_the_configured_ports()
    {
        var coordinator = Environment("k8s/base/coordinator.yaml", "distclip-coordinator").ToDictionary(e => e.Name, e => e.Value);
        var worker = Environment("k8s/base/workers.yaml", "distclip-worker").ToDictionary(e => e.Name, e => e.Value);
        var seed = NodeSettings.Resolve("worker", null, null, null, worker[EnvironmentNames.SeedNodes]).SeedNodes.Single();
        Assert.Equal($"akka.tcp://distclip@{coordinator[EnvironmentNames.PublicHostname]}:{coordinator[EnvironmentNames.Port]}", seed);
        Assert.Equal([coordinator[EnvironmentNames.Port]!, coordinator[EnvironmentNames.BulkPort]!], Ports("k8s/base/coordinator.yaml", "distclip-coordinator"));
        Assert.Equal([worker[EnvironmentNames.Port]!, worker[EnvironmentNames.BulkPort]!], Ports("k8s/base/workers.yaml", "distclip-worker"));
        Assert.Equal(int.Parse(coordinator[EnvironmentNames.MinWorkers]!), int.Parse(At(Documents("k8s/base/workers.yaml")[0], "spec", "replicas").ToString()) * int.Parse(worker[EnvironmentNames.Workers]!));
    }

    [Fact]
    public void Should_patch_the_device_variable_in_the_gpu_overlay()
    {
        var overlay = File.ReadAllText(Path.Combine(Deploy, "k8s/overlays/gpu/kustomization.yaml"));
        var index = int.Parse(System.Text.RegularExpressions.Regex.Match(overlay, @"/env/(\d+)/value").Groups[1].Value);
        Assert.Equal(EnvironmentNames.Device, Environment("k8s/base/workers.yaml", "distclip-worker")[index].Name);
    }

    [Fact]
    public void Should_ship_a_job_file_the_coordinator_accepts()
    {
        var args = ConfigFile.Expand(CoordinatorCommand.Create(), ["coordinator", "--config", Path.Combine(Deploy, "k8s/base/job.yaml")]);
        Assert.Contains("--clip", args);
        Assert.Equal("coordinator", args[0]);
    }

    [Fact]
    public void Should_mount_the_certificates_where_DISTCLIP_TLS_DIR_points_on_every_node()
    {
        string[] files = [DistClip.Exchange.Tls.ClusterTls.AuthorityFile, DistClip.Exchange.Tls.ClusterTls.CertificateFile, DistClip.Exchange.Tls.ClusterTls.KeyFile];
        foreach (var (file, name) in new[] { ("k8s/base/coordinator.yaml", "distclip-coordinator"), ("k8s/base/workers.yaml", "distclip-worker") })
        {
            var directory = Environment(file, name).Single(e => e.Name == EnvironmentNames.TlsDirectory).Value;
            var pod = At(Documents(file).Single(d => At(d, "kind").ToString() is "StatefulSet" or "Deployment"), "spec", "template", "spec");
            var mount = ((YamlSequenceNode)At(pod, "containers", 0, "volumeMounts")).Single(m => At(m, "mountPath").ToString() == directory);
            var volume = ((YamlSequenceNode)At(pod, "volumes")).Single(v => At(v, "name").ToString() == At(mount, "name").ToString());
            Assert.Equal("distclip-tls", At(volume, "secret", "secretName").ToString());
        }
        foreach (var service in ((YamlMappingNode)At(Documents("compose.yaml")[0], "services")).Children.Values)
        {
            var directory = At(service, "environment", EnvironmentNames.TlsDirectory).ToString();
            var targets = ((YamlSequenceNode)At(service, "secrets")).OfType<YamlMappingNode>().Select(s => At(s, "target").ToString()).ToList();
            Assert.Equal(files.Select(f => $"{directory}/{f}"), targets);
        }
    }
}
