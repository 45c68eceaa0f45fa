using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;
using GupConformance.Specification.Tests;

namespace MyPort.Conformance;

/// <summary>
/// All an implementer writes: one factory (here the packaged kernel-style reference implementation stands in for
/// "my port"). Every profile becomes a test: pass, fail with the full report, or skipped when not claimed.
/// </summary>
public sealed class MyPortConformanceTests : GupConformanceSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new KernelStyleFactory();

    // Optional: a smaller budget than the default (200 sequences of 40 commands) to keep the sample quick.
    protected override RunOptions Options => new() { Sequences = 60 };
}

/// <summary>
/// An implementation that claims one profile only: the other profiles are reported skipped with the reason,
/// never passed (and never run: running an unclaimed profile would be an error).
/// </summary>
public sealed class SingleProfilePortTests : GupConformanceSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new OnlyLatestFactory();

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
