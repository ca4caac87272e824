// A finished run as read back from its folder: its steps, its clip policy and its report.
using System.Text.Json;
using DistClip.Hosting;
using DistClip.Training.Clipping;

namespace DistClip.Cli.Reports;

/// <summary>A finished run, from its directory.</summary>
public sealed record RunRecord(string Directory, IReadOnlyList<StepMetrics> Steps, ClipPolicy Clip, RunReport? Summary)
{
    public static RunRecord Load(string directory)
    {
        var metricsPath = Path.Combine(directory, "metrics.jsonl");
        if (!File.Exists(metricsPath)) throw new FileNotFoundException($"{directory} is not a run directory: metrics.jsonl is missing.", metricsPath);
        var steps = File.ReadLines(metricsPath).Where(l => l.Length > 0).Select(l =>
        {
            var j = JsonDocument.Parse(l).RootElement;
            return new StepMetrics(j.GetProperty("step").GetInt64(), Number(j, "loss"), Number(j, "grad_norm"), Number(j, "grad_norm_clipped"),
                j.GetProperty("clipped").GetBoolean(), Number(j, "clip_threshold"));
        }).ToList();
        var clip = ClipPolicy.None;
        var configPath = Path.Combine(directory, "config.yaml");
        if (File.Exists(configPath) && File.ReadLines(configPath).FirstOrDefault(l => l.StartsWith("clip: ", StringComparison.Ordinal)) is { } line)
            clip = ClipPolicy.Parse(line["clip: ".Length..].Trim('\''));
        var summaryPath = Path.Combine(directory, "summary.json");
        var summary = File.Exists(summaryPath) ? JsonSerializer.Deserialize<RunReport>(File.ReadAllText(summaryPath), new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }) : null;
        return new RunRecord(directory, steps, clip, summary);
    }

    private static double Number(JsonElement j, string name) =>
        !j.TryGetProperty(name, out var v) ? double.NaN
        : v.ValueKind == JsonValueKind.Number ? v.GetDouble()
        : double.TryParse(v.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x) ? x : double.NaN;
}
