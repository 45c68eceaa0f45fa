using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>The reference implementation's factory: claims every profile, with every facet the profile offers.</summary>
public class KernelStyleFactory : IImplementationFactory
{
    public virtual string Name => "kernel-style";

    public CapabilityManifest? ManifestFor(Profile profile) =>
        Profiles.All.Contains(profile) ? new CapabilityManifest(Name, profile.Id, profile.Facets) : null;

    public virtual IGupImplementation Create(Profile profile) => new KernelStyleImplementation(profile);
}
