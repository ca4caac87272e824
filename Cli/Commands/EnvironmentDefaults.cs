// Defaults that a deployment may set through DISTCLIP_* environment variables instead of flags.
using System.Globalization;

namespace DistClip.Cli.Commands;

/// <summary>
/// An option's default from the environment: flags win, then the variable, then the built-in value.
/// A variable that does not parse is an error that names it.
/// </summary>
public static class EnvironmentDefaults
{
    public static int Int(string variable, int fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
                : throw new ArgumentException($"{variable} must be a whole number (got '{text}').")
            : fallback;

    public static string? Text(string variable, string? fallback = null) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text ? text : fallback;
}
