using FsCheck;
using FsCheck.Xunit;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;
using GupConformance.Specification.Tests;

namespace MyPort.Conformance;

/// <summary>
/// The [Property] form: all an implementer writes is one property per profile. Every FsCheck test is one generated
/// sequence checked step by step against the model (the packaged kernel-style reference implementation stands in for
/// "my port"); a failure shows FsCheck's "Falsifiable, after N tests" line with the replay seed and then the shrunk
/// counterexample report. MaxTest, Replay, Verbose, QuietOnSuccess and EndSize are FsCheck.Xunit's own.
/// </summary>
public sealed class MyPortProperties
{
    [Property(MaxTest = 60)]
    public Property My_port_conforms_to_linux_6_18() =>
        GupProperty.ConformsTo(new KernelStyleFactory(), Profiles.Get("linux-6.18"));

    [Property(MaxTest = 60, EndSize = 20, QuietOnSuccess = true)]
    public Property My_port_conforms_to_linux_5_7_on_short_sequences() =>
        GupProperty.ConformsTo(new KernelStyleFactory(), Profiles.Get("linux-5.7"));
}

/// <summary>
/// The base-class form, for an implementation that claims one profile only: every profile becomes a test case, the
/// other profiles are reported skipped with the reason, never passed (and never run: running an unclaimed profile would
/// be an error).
/// </summary>
public sealed class SingleProfilePortTests : GupConformanceSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new OnlyLatestFactory();

    // Optional: a smaller budget than the default (200 sequences of 40 commands) to keep the sample quick.
    protected override RunOptions Options => new() { Sequences = 60 };

    private sealed class OnlyLatestFactory : IImplementationFactory
    {
        private readonly KernelStyleFactory _inner = new();

        public string Name => "kernel-style-6.18-only";

        public CapabilityManifest? ManifestFor(Profile profile) =>
            profile.Id == Profiles.Default.Id ? new CapabilityManifest(Name, profile.Id, profile.Facets) : null;

        public IGupImplementation Create(Profile profile) => _inner.Create(profile);
    }
}
