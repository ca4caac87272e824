// The names of the files a coordinator's training state is written to.
namespace DistClip.Coordinator;

/// <summary>The files <see cref="MasterWeights.WriteState"/> writes into a checkpoint folder.</summary>
public static class StateFiles
{
    /// <summary>The master weights: safetensors with PyTorch state_dict names.</summary>
    public const string Weights = "weights.safetensors";

    /// <summary>The moving average of the parameters (with --ema): safetensors, parameter names.</summary>
    public const string Average = "ema.safetensors";

    /// <summary>The optimizer's state (momentum buffers, Adam moments and step counts): TorchSharp's state_dict format.</summary>
    public const string Optimizer = "optimizer.dat";
}
