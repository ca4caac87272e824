// One run per folder: the lock's probe tells a held folder from a free one, and takes nothing.
using DistClip.Hosting;
using Xunit;

namespace DistClip.Tests.Cli;

public sealed class RunFolderLockSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("distclip-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// `--resume auto` probes the folder before it reads checkpoints (a held folder's retention may delete the one it
    /// would choose, before the lock could say the folder is in use); the probe must neither miss a holder nor hold it.
    /// </summary>
    [Fact]
    public void Should_see_a_held_folder_as_held_and_leave_a_free_one_free()
    {
        Assert.False(RunFolderLock.IsHeld(_dir));   // no lock file yet
        using (RunFolderLock.Acquire([("--run-dir", _dir)]))
            Assert.True(RunFolderLock.IsHeld(_dir));
        Assert.False(RunFolderLock.IsHeld(_dir));
        using (RunFolderLock.Acquire([("--run-dir", _dir)]))   // the probe kept nothing
            Assert.True(RunFolderLock.IsHeld(_dir));
    }
}
