// Settings a deployment gives through DISTCLIP_* variables: read and parsed in one place.
using System.Globalization;

namespace DistClip.Hosting;

/// <summary>
/// The DISTCLIP_* variables (<see cref="EnvironmentNames"/>) of an environment: flags win, then the variable,
/// then the built-in default. A variable that does not parse is an error that names it. Empty counts as unset.
/// </summary>
public sealed class EnvironmentValues(Func<string, string?> read)
{
    /// <summary>This process's environment.</summary>
    public static EnvironmentValues Process { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>The variable's text, or <paramref name="fallback"/> when it is unset.</summary>
    public string? Text(string variable, string? fallback = null) => read(variable) is { Length: > 0 } text ? text : fallback;

    /// <summary>The variable as a whole number, or <paramref name="fallback"/> when it is unset.</summary>
    public int Int(string variable, int fallback) => IntOrNull(variable) ?? fallback;

    /// <summary>The variable as a whole number, or null when it is unset.</summary>
    public int? IntOrNull(string variable) => Text(variable) is not { } text ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"{variable} must be a whole number (got '{text}').");
}
