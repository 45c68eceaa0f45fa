using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// Passes everything through to another factory and records, per instance it creates (one per sequence the engine
/// runs), every command that instance was sent, in order: the command stream of a run, to replay or compare.
/// </summary>
public sealed class RecordingFactory(IImplementationFactory inner) : IImplementationFactory
{
    private readonly List<IReadOnlyList<Command>> _sequences = [];

    /// <summary>Per created instance, in creation order: the commands it was sent.</summary>
    public IReadOnlyList<IReadOnlyList<Command>> Sequences => _sequences;

    public string Name => inner.Name;

    public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile);

    public IGupImplementation Create(Profile profile)
    {
        var log = new List<Command>();
        _sequences.Add(log);
        return new Recording(inner.Create(profile), log);
    }

    private sealed class Recording(IGupImplementation inner, List<Command> log) : IGupImplementation
    {
        public Observation Execute(Command command)
        {
            log.Add(command);
            return inner.Execute(command);
        }

        public void Dispose() => inner.Dispose();
    }
}
