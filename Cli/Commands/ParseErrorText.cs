// The command-line parser's messages, with .NET type names put into words.
using System.Text.RegularExpressions;

namespace DistClip.Cli.Commands;

/// <summary>
/// Rewrites System.CommandLine's "as expected type 'System.Nullable`1[System.Int64]'" into "as a whole
/// number", so that a wrong value on the command line or in a config file reads as the user wrote it.
/// </summary>
public static partial class ParseErrorText
{
    public static string Describe(string message) => ExpectedType().Replace(message, m => "as " + InWords(m.Groups[1].Value));

    private static string InWords(string type) => NullableOf().Match(type) is { Success: true } n ? InWords(n.Groups[1].Value) : type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" or "System.Single" => "a number",
        "System.Boolean" => "true or false",
        _ => type[(type.LastIndexOf('.') + 1)..].ToLowerInvariant(),
    };

    [GeneratedRegex(@"as expected type '([^']+)'")]
    private static partial Regex ExpectedType();

    [GeneratedRegex(@"^System\.Nullable`1\[(.+)\]$")]
    private static partial Regex NullableOf();
}
