// TensorBoard event files of a run, written with TorchSharp's SummaryWriter.
using DistClip.Coordinator;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Hosting;

/// <summary>
/// Per step: loss, learning rate, global norm before and after clipping, clip coefficient, whether the
/// step clipped (its mean over steps is the clip rate) and the skipped-step count; at the end, the test metrics
/// and, with <c>--eval-robustness</c>, the figures under each perturbation.
/// </summary>
public sealed class TensorBoardLog(string directory) : ITrainingObserver
{
    private readonly SummaryWriter _writer = utils.tensorboard.SummaryWriter(directory, createRunName: false);
    private int _skipped;

    public void OnStep(StepReport r)
    {
        int step = (int)r.Step;
        if (r.Outcome.Skipped) _skipped++;
        Scalar("train/loss", r.Loss, step);
        Scalar("train/learning_rate", r.Outcome.LearningRate, step);
        Scalar("clip/grad_norm_before", r.Outcome.GradNorm, step);
        Scalar("clip/grad_norm_after", r.Outcome.PostClipNorm, step);
        Scalar("clip/coefficient", r.Outcome.ClipCoefficient, step);
        Scalar("clip/clipped", r.Outcome.Clipped ? 1 : 0, step);
        Scalar("clip/threshold", r.Outcome.Clip.Threshold, step);
        Scalar("train/skipped_steps", _skipped, step);
    }

    public void OnEvaluation(string split, Models.EvaluationResult eval, long step)
    {
        Scalar($"{split}/loss", eval.Loss, (int)step);
        foreach (var (name, value) in new[] { ("accuracy", eval.Accuracy), ("top5_accuracy", eval.Top5Accuracy), ("mae", eval.Mae), ("r2", eval.R2), ("mean_iou", eval.MeanIoU) })
            if (value is double v) Scalar($"{split}/{name}", v, (int)step);
    }

    /// <summary>Per perturbation: <c>SPLIT_robustness/SPEC/accuracy</c>, <c>…/output_change_mean</c>, <c>…/output_change_p95</c>.</summary>
    public void OnRobustness(string split, IReadOnlyList<Models.Robustness.RobustnessFigure> figures, long step)
    {
        foreach (var f in figures)
        {
            if (f.Accuracy is double accuracy) Scalar($"{split}_robustness/{f.Spec}/accuracy", accuracy, (int)step);
            Scalar($"{split}_robustness/{f.Spec}/output_change_mean", f.OutputChangeMean, (int)step);
            Scalar($"{split}_robustness/{f.Spec}/output_change_p95", f.OutputChangeP95, (int)step);
        }
    }

    private void Scalar(string tag, double value, int step)
    {
        try { if (double.IsFinite(value)) _writer.add_scalar(tag, (float)value, step); }
        catch (IOException e) { throw new IOException($"writing the TensorBoard log in {directory} failed: {e.Message}", e); }
    }
}
