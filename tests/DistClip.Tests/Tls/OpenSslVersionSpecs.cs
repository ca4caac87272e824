// The OpenSSL a node names when it starts under --tls.
using DistClip.Exchange.Tls;
using Xunit;

namespace DistClip.Tests.Tls;

public sealed class OpenSslVersionSpecs
{
    [Theory]
    [InlineData(0x30000130L, "OpenSSL 3.0.19")]
    [InlineData(0x30500090L, "OpenSSL 3.5.9")]
    [InlineData(0x30200000L, "OpenSSL 3.2.0")]
    [InlineData(0x1010117FL, "OpenSSL 1.1.1")]
    public void Should_read_an_openssl_version_number(long number, string expected) => Assert.Equal(expected, OpenSslVersion.Format(number));

    // DistClip runs on Linux only, where .NET's TLS is OpenSSL: a null here is a failure, not a platform to pass over.
    [Fact]
    public void Should_name_the_openssl_this_process_loaded_on_linux() => Assert.Matches(@"^OpenSSL [1-9]\.\d+\.\d+$", OpenSslVersion.Loaded);
}
