// A small U-Net for semantic segmentation: two downsamplings, two upsamplings with skip connections.
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistClip.Models.Zoo;

/// <summary>
/// U-Net (Ronneberger et al. 2015), small: enc1 (2 × 3×3 conv, 16) → pool → enc2 (32) → pool → middle (64)
/// → up2 (transposed conv) + enc2 skip → dec2 (32) → up1 + enc1 skip → dec1 (16) → head (1×1 conv to
/// classes). Output (B, classes, H, W) for inputs whose sides are multiples of 4. No batch norm.
/// </summary>
public sealed class UNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential enc1, enc2, middle, dec2, dec1;
    private readonly ConvTranspose2d up2, up1;
    private readonly Conv2d head;

    private static Sequential Block(long input, long output) => nn.Sequential(
        nn.Conv2d(input, output, 3, padding: 1), nn.ReLU(), nn.Conv2d(output, output, 3, padding: 1), nn.ReLU());

    public UNet(int channels, int classes) : base("unet")
    {
        enc1 = Block(channels, 16);
        enc2 = Block(16, 32);
        middle = Block(32, 64);
        up2 = nn.ConvTranspose2d(64, 32, 2, stride: 2);
        dec2 = Block(64, 32);
        up1 = nn.ConvTranspose2d(32, 16, 2, stride: 2);
        dec1 = Block(32, 16);
        head = nn.Conv2d(16, classes, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var e1 = enc1.forward(x);                                              // (B, 16, H, W)
        var e2 = enc2.forward(nn.functional.max_pool2d(e1, 2));                // (B, 32, H/2, W/2)
        var m = middle.forward(nn.functional.max_pool2d(e2, 2));               // (B, 64, H/4, W/4)
        var d2 = dec2.forward(cat([up2.forward(m), e2], 1));                   // (B, 32, H/2, W/2)
        var d1 = dec1.forward(cat([up1.forward(d2), e1], 1));                  // (B, 16, H, W)
        return head.forward(d1);                                               // (B, classes, H, W)
    }
}
