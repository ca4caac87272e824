// The compose file and the job file agree with the CLI: variables it reads, options it takes, certificates where it looks (Kubernetes: KustomizeRenderSpecs).
using DistClip.Cli.Commands;
using DistClip.Hosting;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace DistClip.Tests.Deploy;

public class DeploymentSpecs
{
    private static readonly string Deploy = DeployFiles.Root;

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

    [Fact]
    public void Should_set_only_variables_the_command_of_each_compose_service_reads()
    {
        foreach (var (name, service) in ((YamlMappingNode)At(Documents("compose.yaml")[0], "services")).Children)
        {
            string command = At(service, "command", 0).ToString();
            var reads = CliVariables.ReadBy(command);
            var set = ((YamlMappingNode)At(service, "environment")).Children.Keys.Select(k => k.ToString()).ToList();
            Assert.NotEmpty(set);
            Assert.All(set, variable => Assert.True(reads.Contains(variable), $"compose service {name} sets {variable}, which `distclip {command}` does not read"));
        }
    }

    [Fact]
    public void Should_ship_a_job_file_the_coordinator_accepts()
    {
        var args = ConfigFile.Expand(CoordinatorCommand.Create(), ["coordinator", "--config", Path.Combine(Deploy, "k8s/base/job.yaml")]);
        Assert.Contains("--clip", args);
        Assert.Equal("coordinator", args[0]);
    }

    [Fact]
    public void Should_mount_the_certificates_where_DISTCLIP_TLS_DIR_points_in_every_compose_service()
    {
        string[] files = [DistClip.Exchange.Tls.ClusterTls.AuthorityFile, DistClip.Exchange.Tls.ClusterTls.CertificateFile, DistClip.Exchange.Tls.ClusterTls.KeyFile];
        foreach (var service in ((YamlMappingNode)At(Documents("compose.yaml")[0], "services")).Children.Values)
        {
            var directory = At(service, "environment", EnvironmentNames.TlsDirectory).ToString();
            var targets = ((YamlSequenceNode)At(service, "secrets")).OfType<YamlMappingNode>().Select(s => At(s, "target").ToString()).ToList();
            Assert.Equal(files.Select(f => $"{directory}/{f}"), targets);
        }
    }
}
