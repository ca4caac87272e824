// The cluster's TLS identity on one node: the CA every node trusts, and this node's certificate signed by it.
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DistClip.Exchange.Tls;

/// <summary>
/// What mutual TLS needs on one node (<c>--tls DIR</c>): the cluster CA's certificate (<see cref="AuthorityFile"/>) and this
/// node's certificate and private key (<see cref="CertificateFile"/>, <see cref="KeyFile"/>), as <c>distclip certs</c> writes
/// them. A peer is accepted when its certificate chains to this CA and no other root (<see cref="Accepts"/>): membership of
/// the cluster is having a certificate its CA signed. Host names are not checked: nodes move (pods, DHCP), the CA is the trust.
/// </summary>
public sealed class ClusterTls : IDisposable
{
    public const string AuthorityFile = "ca.crt";
    public const string CertificateFile = "node.crt";
    public const string KeyFile = "node.key";

    /// <summary>The cluster CA: the only root a peer's certificate may chain to.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    private readonly SslStreamCertificateContext _context;

    public ClusterTls(X509Certificate2 authority, X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey) throw new ArgumentException($"The node certificate {certificate.Subject} has no private key.", nameof(certificate));
        (Authority, Certificate) = (authority, certificate);
        if (!Accepts(certificate, out var why))
            throw new ArgumentException($"The node certificate {certificate.Subject} is not accepted by the cluster CA {authority.Subject}: {why}", nameof(certificate));
        _context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
    }

    /// <summary>Reads <see cref="AuthorityFile"/>, <see cref="CertificateFile"/> and <see cref="KeyFile"/> from <paramref name="directory"/>.</summary>
    /// <param name="option">Named in errors: the flag or variable the directory came from.</param>
    /// <exception cref="ArgumentException">A file is missing or unreadable, or the certificate is not the CA's.</exception>
    public static ClusterTls Load(string directory, string option)
    {
        string Need(string file)
        {
            var path = Path.Combine(directory, file);
            return File.Exists(path) ? path
                : throw new ArgumentException($"{option} {directory}: no {file} there (make the cluster's certificates with `distclip certs DIR`, then give every node --tls DIR/<node>).");
        }
        var (caPath, certificatePath, keyPath) = (Need(AuthorityFile), Need(CertificateFile), Need(KeyFile));
        try
        {
            var authority = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // Re-imported from PKCS#12 so that the key is one every TLS stack on every platform can use for a handshake.
            var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
            return new ClusterTls(authority, certificate);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ArgumentException($"{option} {directory}: {e.Message}");
        }
    }

    /// <summary>
    /// Whether <paramref name="peer"/> chains to the cluster CA (and to no other root), is within its validity and is meant
    /// for TLS. Revocation is not checked: a cluster CA publishes no revocation list; retire a node by making a new CA.
    /// </summary>
    public bool Accepts(X509Certificate? peer, out string? why)
    {
        if (peer is null) { why = "no certificate"; return false; }
        try { return ChainsToAuthority(peer, out why); }
        catch (CryptographicException e) { why = e.Message; return false; }  // a malformed certificate is a refusal, not a crash
    }

    private bool ChainsToAuthority(X509Certificate peer, out string? why)
    {
        using var certificate = new X509Certificate2(peer);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (!chain.Build(certificate))
        {
            why = $"{certificate.Subject}: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
            return false;
        }
        var root = chain.ChainElements[^1].Certificate;
        bool ours = root.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span);
        why = ours ? null : $"{certificate.Subject} chains to {root.Subject}, not to the cluster CA";
        foreach (var element in chain.ChainElements) element.Certificate.Dispose();  // not disposed with the chain
        return ours;
    }

    /// <summary>The listening side of a connection: presents this node's certificate and requires the peer's.</summary>
    public SslServerAuthenticationOptions ServerOptions(Action<string> refused) => new()
    {
        ServerCertificateContext = _context,
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, peer, _, _) => Verdict(peer, refused),
    };

    /// <summary>The connecting side: presents this node's certificate and checks the listener's.</summary>
    public SslClientAuthenticationOptions ClientOptions(Action<string> refused) => new()
    {
        TargetHost = "distclip",  // names no host: certificates are checked against the CA, not a name (see the type's summary)
        ClientCertificateContext = _context,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, peer, _, _) => Verdict(peer, refused),
    };

    private bool Verdict(X509Certificate? peer, Action<string> refused)
    {
        if (Accepts(peer, out var why)) return true;
        refused(why!);
        return false;
    }

    public void Dispose()
    {
        Authority.Dispose();
        Certificate.Dispose();
    }
}
