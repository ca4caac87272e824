// `--config job.yaml`: every option of a command as a YAML key; flags on the command line win.
using System.CommandLine;
using YamlDotNet.RepresentationModel;

namespace DistClip.Cli.Commands;

/// <summary>
/// Expands <c>--config FILE</c> into command-line tokens. Keys are the command's option names without
/// the dashes (<c>global-batch: 64</c>, <c>clip: norm:1.0</c>, <c>no-shuffle: true</c>); a key that names
/// no option of the command, a value that is not a scalar, or a value of the wrong type is an error
/// that names the file and the key. An option also given on the command line keeps the command
/// line's value.
/// </summary>
public static class ConfigFile
{
    public const string OptionName = "--config";

    /// <summary>The arguments with the file's settings in front of them, or the arguments unchanged without --config.</summary>
    public static string[] Expand(Command command, string[] args)
    {
        int at = Array.IndexOf(args, OptionName);
        if (at < 0) return args;
        if (at + 1 >= args.Length) throw new ArgumentException($"{OptionName} needs a file name.");
        string path = args[at + 1];
        var rest = args.Take(at).Concat(args.Skip(at + 2)).ToArray();
        var fromFile = Read(path, command);
        var given = rest.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
        var tokens = new List<string>();
        foreach (var (key, value) in fromFile)
        {
            var option = command.Options.First(o => o.Name == "--" + key);
            if (given.Contains(option.Name) || option.Aliases.Any(given.Contains)) continue;  // the command line wins
            if (option.ValueType == typeof(bool))
            {
                if (!bool.TryParse(value, out var flag)) throw new ArgumentException($"{path}: key '{key}' must be true or false (got '{value}').");
                if (flag) tokens.Add(option.Name);
            }
            else tokens.AddRange([option.Name, value]);
        }
        var check = command.Parse(tokens.ToArray());
        if (check.Errors.Count > 0) throw new ArgumentException($"{path}: {ParseErrorText.Describe(check.Errors[0].Message)}");
        // The command's name stays first when the arguments include it.
        return rest.Length > 0 && rest[0] == command.Name ? [rest[0], .. tokens, .. rest[1..]] : [.. tokens, .. rest];
    }

    private static List<(string Key, string Value)> Read(string path, Command command)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Config file not found: {path}", path);
        var yaml = new YamlStream();
        try { using var reader = new StreamReader(path); yaml.Load(reader); }
        catch (YamlDotNet.Core.YamlException e) { throw new InvalidDataException($"{path}: not valid YAML ({e.Message}).", e); }
        if (yaml.Documents.Count == 0) return [];
        if (yaml.Documents[0].RootNode is not YamlMappingNode root) throw new InvalidDataException($"{path}: expected key: value pairs at the top level.");
        var known = command.Options.Select(o => o.Name.TrimStart('-')).Where(n => n is not "config" and not "help" and not "?" and not "h").ToList();
        var result = new List<(string, string)>();
        foreach (var (keyNode, valueNode) in root.Children)
        {
            string key = ((YamlScalarNode)keyNode).Value ?? "";
            if (!known.Contains(key))
                throw new ArgumentException($"{path}: unknown key '{key}'; known keys: {string.Join(", ", known)}.");
            if (valueNode is not YamlScalarNode { Value: { } value })
                throw new ArgumentException($"{path}: key '{key}' must have a single value.");
            result.Add((key, value));
        }
        return result;
    }
}
