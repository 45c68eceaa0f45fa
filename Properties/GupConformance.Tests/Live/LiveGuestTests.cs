using GupConformance.Engine.Plugins;
using GupConformance.Fixtures.LiveKernel;
using GupConformance.Oracles.Live;

namespace GupConformance.Tests.Live;

/// <summary>
/// The live layer on a kernel under test (<c>--live --impl kernel:…</c>): a VM booted with the live agent. Without a
/// kernel, a stand-in for QEMU (kernel-fakes/fake_qemu.py) behind the real VM host shows that a guest that panics,
/// hangs or runs no agent is a named error quoting the guest, with nothing left running; with the cached images, a
/// short live run of each real kernel against the live profile read from its tree.
/// </summary>
public sealed class LiveGuestTests : IDisposable
{
    private static readonly string FakeQemu = Path.Combine(AppContext.BaseDirectory, "kernel-fakes", "fake_qemu.py");

    private readonly string _dir = Directory.CreateTempSubdirectory("gupc-live-guest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PidFile => Path.Combine(_dir, "qemu.pid");

    private LiveGuest Boot(string mode) => LiveGuest.Boot("fake", PythonInterpreter.Path,
        [
            KernelLauncher.HostScript, "--image", FakeQemu, "--initramfs", FakeQemu, "--label", "fake", "--live",
            "--qemu", PythonInterpreter.CommandLine(FakeQemu, mode, PidFile), "--reply-timeout", "3", "--boot-timeout", "20",
        ], progress: null, TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData("live-panic", "guest kernel panic: BUG: kernel NULL pointer dereference")]
    [InlineData("live-hang", "did not answer within 3 s (hung)")]
    public void A_guest_that_fails_under_the_live_fixture_is_a_named_error_quoting_the_VM_host(string mode, string expected)
    {
        var guest = Boot(mode);
        Assert.Equal("6.12.118-fake", guest.KernelRelease);

        // The factory's first probe meets the failure: the error names the guest and quotes what the host saw.
        var e = Assert.Throws<InvalidOperationException>(() => LiveKernelFactory.InGuest(guest));
        Assert.Contains("the fake guest ended while running 'read /proc/sys/kernel/osrelease'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        guest.Dispose();
        AssertQemuGone();
    }

    [Fact]
    public void A_guest_that_runs_the_guest_server_instead_of_the_live_agent_is_refused_with_the_reason()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Boot("live-server"));
        Assert.Contains("did not start the live agent", e.Message, StringComparison.Ordinal);
        AssertQemuGone();
    }

    private void AssertQemuGone() => KernelHostTests.AssertStandInGone(PidFile);

    /// <summary>
    /// A short live run inside each real kernel, against the live profile its release selects (read from its tree):
    /// only where the image is cached, as for <see cref="KernelConformanceTests"/>; .ci/kernels runs a larger budget.
    /// </summary>
    [SkippableTheory]
    [InlineData("6.12", "linux-6.12.y")]
    [InlineData("6.1", "linux-6.1.y")]
    public void The_live_layer_of_a_real_kernel_conforms_to_the_live_profile_read_from_its_tree(string tree, string profileId)
    {
        Skip.If(Environment.GetEnvironmentVariable(KernelConformanceTests.SwitchVariable) == "0",
            $"kernel checks not run: {KernelConformanceTests.SwitchVariable}=0 (.ci/kernels runs them with its own budget)");
        var (image, why) = KernelLauncher.Cached(tree);
        Skip.If(image is null, $"kernel checks not run: {why}; build the image with `bash Fixtures/Kernel/build-kernel.sh {tree}` or run .ci/kernels");

        var launch = KernelLauncher.Launch(image!, live: true);
        var guest = LiveGuest.Boot(image!.Label, launch.FileName, launch.Arguments, progress: null, KernelLauncher.BootTimeout);
        using var factory = LiveKernelFactory.InGuest(guest, useHugetlb: true, useMthp: true);
        Assert.True(factory.Environment.Available, factory.Environment.NotApplicableReason);
        Assert.Equal(profileId, LiveProfile.ForKernel(factory.Environment.KernelRelease)?.Id);

        var result = new Engine.Live.LiveConformanceRun(factory, profile: null).Run(new Engine.Live.LiveRunOptions { Seed = 7, Sequences = 6, Length = 20 });
        Assert.True(result.Verdict == Engine.Live.LiveVerdict.Pass, result.Render());
        Assert.Equal(6, result.SequencesRun);
        Assert.True(result.Commands > 0);
    }
}
