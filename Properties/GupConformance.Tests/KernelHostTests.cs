using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// The VM host of a kernel under test (Fixtures/Kernel/vmhost.py), without a kernel: a stand-in for QEMU
/// (kernel-fakes/fake_qemu.py) boots, answers and then panics, hangs or dies. Each misbehaviour must be a named
/// fault of the run, carrying the guest log's telling lines, within bounded time — and the "QEMU" must be gone
/// afterwards. The real kernels are checked by KernelConformanceTests when their images are built.
/// </summary>
public sealed class KernelHostTests : IDisposable
{
    private static readonly string FakeQemu = Path.Combine(AppContext.BaseDirectory, "kernel-fakes", "fake_qemu.py");

    private static readonly ProcessOptions Options = new()
    {
        CommandTimeout = TimeSpan.FromSeconds(20),
        StartTimeout = TimeSpan.FromSeconds(30),
        RunTimeout = TimeSpan.FromSeconds(60),
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("gupc-kernel-host-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PidFile => Path.Combine(_dir, "qemu.pid");

    // A hung guest costs the whole reply time-out once per run and shrink candidate: 1 s there; 3 s where the stand-in
    // answers, so that a loaded machine never makes it late.
    private ProcessLaunch Host(string mode) => new(PythonInterpreter.Path,
    [
        KernelLauncher.HostScript, "--image", FakeQemu, "--initramfs", FakeQemu, "--label", "fake",
        "--qemu", PythonInterpreter.CommandLine(FakeQemu, mode, PidFile), "--reply-timeout", mode == "hang" ? "1" : "3", "--boot-timeout", "20",
    ]);

    private static RunResult Run(IImplementationFactory factory) =>
        ConformanceRun.Run(factory, Profiles.Get("linux-6.12.118"), new RunOptions
        {
            Sequences = 1,
            Length = 20,
            MaxShrinkRuns = 2,
            StopAtFirstFailure = true,
            CommandTimeout = TimeSpan.FromSeconds(25),
        });

    private void AssertQemuGone() => AssertStandInGone(PidFile);

    /// <summary>The QEMU stand-in whose pid is in <paramref name="pidFile"/> disappears (the host killed it, or it
    /// exited and was reaped) within a few seconds.</summary>
    internal static void AssertStandInGone(string pidFile)
    {
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (GoneOrZombie(pid))
            {
                return;
            }

            Thread.Sleep(100);
        }

        Assert.Fail($"the QEMU stand-in (pid {pid}) is still running after the host finished");
    }

    /// <summary>Whether the process has ended: no /proc entry (or one that vanished while read), or a zombie's.</summary>
    private static bool GoneOrZombie(int pid) => ProcFs.Read(pid, "stat") is not { } stat || stat.Contains(") Z ", StringComparison.Ordinal);

    [Theory]
    [InlineData("panic", "guest kernel panic", "try_grab_folio")]
    [InlineData("hang", "did not answer within 1 s (hung)", "Run /init")]
    [InlineData("exit", "QEMU exited with status 1", "Run /init")]
    public void A_dead_or_hung_guest_is_a_named_fault_quoting_the_guest_log(string mode, string what, string quoted)
    {
        var clock = Stopwatch.StartNew();
        RunResult r;
        using (var factory = ProcessImplementationFactory.Start(Host(mode), Options))
        {
            Assert.Equal(10, factory.ManifestFor(Profiles.Get("linux-6.12.118"))!.MaxOrder);
            r = Run(factory);
        }

        Assert.False(r.Conformant);
        var cx = Assert.Single(r.Counterexamples);
        Assert.Equal(FailureKind.Crash, cx.Kind);
        Assert.Contains("ProcessExited", cx.Message, StringComparison.Ordinal);
        Assert.Contains(what, cx.Message, StringComparison.Ordinal);
        Assert.Contains(quoted, cx.Message, StringComparison.Ordinal);
        // The stand-in fails the first batch of every run: the prefix shrinks to the one command that met it.
        Assert.Equal(0, cx.FailedAction);
        AssertQemuGone();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"took {clock.Elapsed}");
    }

    [Fact]
    public void The_guest_is_shut_down_when_the_engine_is_done()
    {
        using (var factory = ProcessImplementationFactory.Start(Host("ok"), Options))
        {
            var m = factory.ManifestFor(Profiles.Get("linux-6.12.118"));
            Assert.NotNull(m);
            Assert.Equal(Facet.Core, m.Facets);
            using var impl = factory.Create(Profiles.Get("linux-6.12.118"));
            Assert.Equal(0, impl.Execute(new MapRegion(1, RegionKind.Anon, SequenceGenerator.BaseAddress, 1)).Result ?? 0);
        }

        AssertQemuGone();
    }

    [Fact]
    public void A_missing_image_is_one_line_and_no_guest()
    {
        var missing = Path.Combine(_dir, "no-such-bzImage");
        var e = Assert.Throws<PluginSetupException>(() => ProcessImplementationFactory.Start(
            PythonInterpreter.Launch(KernelLauncher.HostScript, "--image", missing, "--initramfs", missing), Options));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
