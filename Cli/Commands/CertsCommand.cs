// `distclip certs DIR`: the cluster CA and node certificates for --tls.
using System.CommandLine;
using DistClip.Exchange.Tls;

namespace DistClip.Cli.Commands;

public static class CertsCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "Where the CA (ca.crt, ca.key) and one directory per node go; an existing CA there is reused." };
        var nodes = new Option<string[]>("--node")
        {
            Description = "A node to make a certificate for (repeat for several); its directory DIR/NAME is what the node gets with --tls. Default: one certificate, 'node', that every node may share.",
            DefaultValueFactory = _ => ["node"],
            AllowMultipleArgumentsPerToken = true,
        };
        var days = new Option<int>("--days") { Description = "How long the node certificates are valid, in days.", DefaultValueFactory = _ => 730 };
        var command = new Command("certs", "Make the cluster's CA and node certificates for mutual TLS (--tls / DISTCLIP_TLS_DIR); no openssl needed.")
        {
            directory, nodes, days,
        };
        command.SetAction(p => CommandGuard.Run(() =>
        {
            var root = p.GetValue(directory)!;
            var made = ClusterCertificates.Create(root, p.GetValue(nodes)!, TimeSpan.FromDays(p.GetValue(days)));
            Console.WriteLine($"Cluster CA: {Path.Combine(root, ClusterTls.AuthorityFile)} (its key {Path.Combine(root, ClusterCertificates.AuthorityKeyFile)} signs new nodes: keep it off the nodes)");
            foreach (var node in made) Console.WriteLine($"Node certificate: {node}  (start the node with --tls {node})");
            return 0;
        }));
        return command;
    }
}
