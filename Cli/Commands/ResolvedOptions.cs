// The resolved value of every option of a command, as the YAML a --config file takes.
using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace DistClip.Cli.Commands;

/// <summary>Renders a parse result as <c>key: value</c> lines that <see cref="ConfigFile"/> reads back to the same run.</summary>
public static class ResolvedOptions
{
    public static string ToYaml(ParseResult parse)
    {
        var lines = new List<string>();
        foreach (var option in parse.CommandResult.Command.Options)
        {
            if (option.Name is ConfigFile.OptionName || option.Hidden || option is HelpOption || option is VersionOption) continue;
            var value = parse.GetValue<object?>(option.Name);
            if (value is null || value is false) continue;   // unset, or a flag that is off
            string text = value switch
            {
                true => "true",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
            lines.Add($"{option.Name.TrimStart('-')}: {Quote(text)}");
        }
        return string.Join('\n', lines) + "\n";
    }

    // Quoted when YAML would otherwise read the text as something else (a spec like "norm:1" has a colon).
    private static string Quote(string text) =>
        text.Length == 0 || text.IndexOfAny([':', '#', '\'', '"', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '@']) >= 0 || text != text.Trim()
            ? "'" + text.Replace("'", "''") + "'"
            : text;
}
