// The optimizer's and schedule's settings check their values where they are set, naming the option.
using DistClip.Training.Optimization;
using Xunit;

namespace DistClip.Tests.Optimization;

public class SettingsSpecs
{
    [Fact]
    public void Should_refuse_a_bad_value_at_construction_and_in_a_with_expression()
    {
        Assert.Contains("--optimizer", Assert.Throws<ArgumentException>(() => new OptimizerSettings("lion")).Message);
        Assert.Contains("--lr", Assert.Throws<ArgumentException>(() => new OptimizerSettings() with { LearningRate = -1 }).Message);
        Assert.Contains("--lr", Assert.Throws<ArgumentException>(() => new OptimizerSettings("sgd", double.NaN)).Message);
        Assert.Contains("--momentum", Assert.Throws<ArgumentException>(() => new OptimizerSettings() with { Momentum = -0.1 }).Message);
        Assert.Contains("--weight-decay", Assert.Throws<ArgumentException>(() => new OptimizerSettings(WeightDecay: -1)).Message);
        Assert.Contains("--lr-schedule", Assert.Throws<ArgumentException>(() => new ScheduleSettings("linear")).Message);
        Assert.Contains("--warmup-steps", Assert.Throws<ArgumentException>(() => new ScheduleSettings() with { WarmupSteps = -1 }).Message);
        Assert.Contains("--lr-step-size", Assert.Throws<ArgumentException>(() => new ScheduleSettings(StepSize: 0)).Message);
    }

    [Fact]
    public void Should_keep_the_runs_defaults_in_one_place()
    {
        var run = new Hosting.TrainingSettings();
        Assert.Equal(new OptimizerSettings(), run.Optimizer);
        Assert.Equal(new ScheduleSettings(), run.Schedule);
        Assert.Equal(("sgd", 0.04, 0.9, "cosine"), (run.Optimizer.Name, run.Optimizer.LearningRate, run.Optimizer.Momentum, run.Schedule.Kind));
        Assert.Equal(0.5, (new OptimizerSettings() with { LearningRate = 0.5 }).LearningRate);
    }
}
