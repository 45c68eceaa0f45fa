using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// Real kernels against the model, through the in-kernel adapter and QEMU (Fixtures/Kernel): a bounded run of each
/// kernel under the profile read from its tree. Building a kernel takes about 12 CPU-minutes, so these tests only
/// run when the image is already cached (Fixtures/Kernel/build-kernel.sh 6.12, or .ci/kernels, builds it); without
/// it they are skipped and the skip says why. GUPCONFORMANCE_KERNEL_TESTS=0 skips them too (.ci/run sets it: its
/// own kernel step, .ci/kernels, runs the same checks with a larger budget).
/// </summary>
public sealed class KernelConformanceTests
{
    public const string SwitchVariable = "GUPCONFORMANCE_KERNEL_TESTS";

    [SkippableTheory]
    [InlineData("6.12", "linux-6.12.118")]
    [InlineData("6.1", "linux-6.1.y")]
    public void A_real_kernel_conforms_to_the_profile_read_from_its_tree(string tree, string profile)
    {
        Skip.If(Environment.GetEnvironmentVariable(SwitchVariable) == "0",
            $"kernel checks not run: {SwitchVariable}=0 (.ci/kernels runs them with its own budget)");
        var (image, why) = KernelLauncher.Cached(tree);
        Skip.If(image is null, $"kernel checks not run: {why}; build the image with `bash Fixtures/Kernel/build-kernel.sh {tree}` (about 12 CPU-minutes, cached afterwards) or run .ci/kernels");

        var options = KernelLauncher.Adjust(new ProcessOptions { CommandTimeout = TimeSpan.FromSeconds(240) }, null);
        using var factory = ProcessImplementationFactory.Start(KernelLauncher.Launch(image!), options);
        Assert.NotNull(factory.ManifestFor(Profiles.Get(profile)));

        var r = ConformanceRun.Run(factory, Profiles.Get(profile), new RunOptions
        {
            Sequences = 12,
            Length = 30,
            CommandTimeout = TimeSpan.FromSeconds(300),
            ImplementationId = "kernel:" + tree,
        });

        // A bounded run cannot exercise every rule (never-exercised rules count as failed in a report): what it must
        // show is that the kernel never disagreed with the model on a command it ran. .ci/kernels runs a larger budget.
        Assert.True(r.Counterexamples.Count == 0, ReportWriter.Render(r));
        Assert.Contains(r.Verdicts, v => v.Outcome == Outcome.Pass && v.Exercised > 0);
        Assert.Equal(1, factory.ProcessesStarted);
    }
}
