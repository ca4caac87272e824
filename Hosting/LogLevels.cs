// One log level for DistClip's own log lines and Akka's: --log-level, or DISTCLIP_LOG_LEVEL.
namespace DistClip.Hosting;

/// <summary>
/// DistClip's actors log through Akka's logging, so one level governs both: debug, info, warning (the default: a normal
/// run prints its progress lines and no log line at all), error, or off. The run's own output (its banner, progress and
/// end) is not a log and is always printed.
/// </summary>
public static class LogLevels
{
    public const string Default = "warning";

    public static IReadOnlyList<string> Names { get; } = ["debug", "info", "warning", "error", "off"];

    /// <summary>Akka's name of <paramref name="level"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="level"/> is none of <see cref="Names"/>; the message names <paramref name="option"/>.</exception>
    public static string ToAkka(string level, string option = "--log-level") => level.ToLowerInvariant() switch
    {
        "debug" => "DEBUG",
        "info" => "INFO",
        "warning" => "WARNING",
        "error" => "ERROR",
        "off" => "OFF",
        _ => throw new ArgumentException($"{option} must be one of {string.Join(", ", Names)} (got '{level}')."),
    };

    /// <summary>The HOCON that sets Akka's (and so DistClip's) log level, layered over the defaults.</summary>
    public static string Hocon(string level) => $"akka {{ loglevel = {ToAkka(level)}, stdout-loglevel = {ToAkka(level)} }}";

    /// <summary>The level asked for: the option's value, else DISTCLIP_LOG_LEVEL, else <see cref="Default"/>; checked.</summary>
    public static string Resolve(string? option)
    {
        var fromEnvironment = option is null ? EnvironmentValues.Process.Text(EnvironmentNames.LogLevel) : null;
        var level = option ?? fromEnvironment ?? Default;
        ToAkka(level, fromEnvironment is not null ? EnvironmentNames.LogLevel : "--log-level");
        return level.ToLowerInvariant();
    }
}
