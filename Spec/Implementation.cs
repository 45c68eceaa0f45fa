namespace GupConformance.Spec;

/// <summary>
/// The adapter an implementer writes: execute one command on a fresh-per-run instance and report what is
/// observed. An instance serves exactly one run (one command sequence) and is then disposed.
/// Implementations must not throw for kernel-level errors (those are results, -errno); an exception means
/// the implementation itself is broken and is reported as a Fail with the sequence prefix.
/// </summary>
public interface IGupImplementation : IDisposable
{
    Observation Execute(Command command);
}

/// <summary>
/// The one factory an implementer writes: its name, the profiles it claims with a manifest each, and a way to
/// create a fresh instance for a run under one of those profiles.
/// </summary>
public interface IImplementationFactory
{
    string Name { get; }

    /// <summary>The manifest for a profile, or null when the implementation does not claim that profile.</summary>
    CapabilityManifest? ManifestFor(Profile profile);

    IGupImplementation Create(Profile profile);
}
