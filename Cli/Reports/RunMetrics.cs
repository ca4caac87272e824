// Reads a run directory's metrics.jsonl, config.yaml and summary.json back for reports.
namespace DistClip.Cli.Reports;

