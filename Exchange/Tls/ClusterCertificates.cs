// Makes a cluster CA and node certificates signed by it (`distclip certs`), with .NET's own cryptography: no openssl needed.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DistClip.Exchange.Tls;

/// <summary>
/// The files of a cluster's certificates. <c>DIR/ca.crt</c> and <c>DIR/ca.key</c> are the CA (the key signs new nodes: keep it
/// off the nodes); each node gets <c>DIR/NAME/</c> with <see cref="ClusterTls.AuthorityFile"/>, <see cref="ClusterTls.CertificateFile"/>
/// and <see cref="ClusterTls.KeyFile"/>, the directory a node is given with <c>--tls</c>. Keys are ECDSA P-256 (fast handshakes),
/// written as PKCS#8 PEM readable by the owner only. An existing CA is reused, so that nodes added later join the same cluster.
/// </summary>
public static class ClusterCertificates
{
    public const string AuthorityKeyFile = "ca.key";

    /// <summary>How long a new CA is valid.</summary>
    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3650);

    /// <summary>Creates (or reuses) the CA in <paramref name="directory"/> and one node directory per name; returns the node directories.</summary>
    /// <param name="validFor">How long the node certificates are valid (never past the CA's own end).</param>
    /// <exception cref="ArgumentException">A name is not a plain directory name, a node directory already holds a certificate, or half a CA is there.</exception>
    public static IReadOnlyList<string> Create(string directory, IReadOnlyList<string> nodes, TimeSpan validFor)
    {
        if (nodes.Count == 0) throw new ArgumentException("Name at least one node.", nameof(nodes));
        if (validFor <= TimeSpan.Zero) throw new ArgumentException($"--days must be positive (got {validFor.TotalDays}).", nameof(validFor));
        foreach (var name in nodes)
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$"))
                throw new ArgumentException($"--node '{name}' is not a plain host-like name (letters, digits, '.', '-'; it becomes a directory under {directory} and the certificate's name).");
            if (File.Exists(Path.Combine(directory, name, ClusterTls.CertificateFile)))
                throw new ArgumentException($"--node {name}: {Path.Combine(directory, name)} already holds a certificate; remove it first to make a new one.");
        }
        if (nodes.Distinct().Count() != nodes.Count) throw new ArgumentException("--node names a node twice.");
        Directory.CreateDirectory(directory);
        using var authority = LoadOrCreateAuthority(directory);
        var made = new List<string>();
        foreach (var name in nodes)
        {
            var nodeDirectory = Path.Combine(directory, name);
            Directory.CreateDirectory(nodeDirectory);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = SignNode(authority, key, name, validFor);
            File.Copy(Path.Combine(directory, ClusterTls.AuthorityFile), Path.Combine(nodeDirectory, ClusterTls.AuthorityFile), overwrite: true);
            WritePrivate(Path.Combine(nodeDirectory, ClusterTls.KeyFile), key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path.Combine(nodeDirectory, ClusterTls.CertificateFile), certificate.ExportCertificatePem() + "\n");
            made.Add(nodeDirectory);
        }
        return made;
    }

    private static X509Certificate2 LoadOrCreateAuthority(string directory)
    {
        var (certificatePath, keyPath) = (Path.Combine(directory, ClusterTls.AuthorityFile), Path.Combine(directory, AuthorityKeyFile));
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            try { return X509Certificate2.CreateFromPemFile(certificatePath, keyPath); }
            catch (CryptographicException e) { throw new ArgumentException($"{certificatePath} and {keyPath} are not a CA certificate and its key ({e.Message})."); }
        }
        if (File.Exists(certificatePath) || File.Exists(keyPath))
            throw new ArgumentException($"{directory} holds only one of {ClusterTls.AuthorityFile} and {AuthorityKeyFile}: a CA needs both (or neither, to make a new one).");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=DistClip cluster CA {Convert.ToHexString(RandomNumberGenerator.GetBytes(4))}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        var authority = request.CreateSelfSigned(now.AddHours(-1), now + AuthorityLifetime);  // an hour back: clocks of nodes differ
        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, authority.ExportCertificatePem() + "\n");
        return authority;
    }

    private static X509Certificate2 SignNode(X509Certificate2 authority, ECDsa key, string name, TimeSpan validFor)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        // Every node both listens and connects: a server and a client certificate in one.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + validFor < authority.NotAfter ? now + validFor : new DateTimeOffset(authority.NotAfter);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;  // a serial number is a positive integer
        return request.Create(authority, now.AddHours(-1), notAfter, serial);
    }

    private static void WritePrivate(string path, string pem)
    {
        File.Delete(path);  // a file left there keeps its permissions: the key goes into a new one, readable by its owner only
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var writer = new StreamWriter(new FileStream(path, options));
        writer.WriteLine(pem);
    }
}
