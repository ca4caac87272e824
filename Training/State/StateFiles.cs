// The names of the files a replica's training state is written to.
namespace DistClip.Training.State;

/// <summary>The files <see cref="ModelReplica.WriteState"/> writes into a checkpoint folder.</summary>
public static class StateFiles
{
    /// <summary>The master weights: safetensors with PyTorch state_dict names.</summary>
    public const string Weights = "weights.safetensors";

    /// <summary>The moving average of the parameters (with --ema): safetensors, parameter names.</summary>
    public const string Average = "ema.safetensors";

    /// <summary>The optimizer's state (momentum buffers, Adam moments and step counts): TorchSharp's state_dict format.</summary>
    public const string Optimizer = "optimizer.dat";
}
