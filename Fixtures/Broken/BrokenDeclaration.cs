using GupConformance.Spec;

namespace GupConformance.Fixtures.Broken;

/// <summary>
/// What a deliberately broken implementation claims about itself, so tests can check the suite catches it:
/// the rule(s) a failure must name, the profiles where it is wrong (it must pass every other profile it is
/// run under), and the number of action commands (inspections excluded) of its minimal counterexample.
/// </summary>
/// <param name="Violates">Rule ids, the first being the one a minimal counterexample is expected to report.</param>
/// <param name="WrongIn">Profile ids where the bug is observable.</param>
/// <param name="MinimalActions">Action commands in the minimal counterexample.</param>
/// <param name="Bug">The bug in one line.</param>
/// <param name="Modelled">The historical or plausible bug it is modelled on.</param>
public sealed record BrokenDeclaration(
    IReadOnlyList<string> Violates,
    IReadOnlyList<string> WrongIn,
    int MinimalActions,
    string Bug,
    string Modelled)
{
    public bool IsWrongIn(Profile profile) => WrongIn.Contains(profile.Id, StringComparer.Ordinal);
}

/// <summary>Attached to each broken implementation class; <see cref="BrokenImplementations"/> reads it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class BrokenAttribute : Attribute
{
    public BrokenAttribute(string name, string[] violates, string[] wrongIn, int minimalActions, string bug, string modelled)
    {
        Declaration = new BrokenDeclaration(violates, wrongIn, minimalActions, bug, modelled);
        Name = name;
    }

    public string Name { get; }

    public BrokenDeclaration Declaration { get; }
}

/// <summary>A factory for one broken implementation: claims every profile, like the reference.</summary>
public sealed class BrokenFactory : IImplementationFactory
{
    private readonly Func<Profile, IGupImplementation> _create;

    public BrokenFactory(string name, Func<Profile, IGupImplementation> create)
    {
        Name = name;
        _create = create;
    }

    public string Name { get; }

    public CapabilityManifest? ManifestFor(Profile profile) =>
        Profiles.All.Contains(profile) ? new CapabilityManifest(Name, profile.Id, profile.Facets) : null;

    public IGupImplementation Create(Profile profile) => _create(profile);
}

/// <summary>One entry of <see cref="BrokenImplementations.All"/>.</summary>
public sealed record BrokenImplementation(string Name, IImplementationFactory Factory, BrokenDeclaration Declaration);

/// <summary>Profile id sets the declarations use.</summary>
internal static class Eras
{
    public const string P2015 = "proposal-2015-get-vaddr-pfns";
    public const string L56 = "linux-5.6";
    public const string L57 = "linux-5.7";
    public const string L519 = "linux-5.19";
    public const string Rfc = "proposal-2022-iov-extract-rfc";
    public const string L62 = "linux-6.2";
    public const string V8 = "proposal-2023-iov-extract-v8";
    public const string L65 = "linux-6.5";
    public const string L68 = "linux-6.8";
    public const string L612 = "linux-6.12.118";
    public const string L615 = "linux-6.15";
    public const string L615x32 = "linux-6.15-32bit";
    public const string L618 = "linux-6.18";
}
