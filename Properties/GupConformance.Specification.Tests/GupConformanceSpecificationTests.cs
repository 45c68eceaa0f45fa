using GupConformance.Engine;
using GupConformance.Spec;
using Xunit;

namespace GupConformance.Specification.Tests;

/// <summary>
/// The whole conformance suite as xunit tests. Subclass it in a test project, override <see cref="CreateFactory"/>
/// (and optionally <see cref="Options"/>), and every profile becomes one test case:
/// a profile the factory does not claim (<see cref="IImplementationFactory.ManifestFor"/> returns null) is reported
/// <em>skipped</em> with the reason, never passed; a claimed profile is checked through FsCheck by
/// <see cref="GupProperty.Check"/> (the property of <see cref="GupProperty.ConformsTo"/>, <see cref="RunOptions.Sequences"/>
/// tests from the replay seed of <see cref="RunOptions.Seed"/>) and passes only when no sequence failed and every rule is
/// Pass, Not applicable or an Expected divergence the manifest declares. A failure's message is FsCheck's own
/// ("Falsifiable, after N tests …" with its seed) followed by the shrunk counterexample report, or the rules that failed
/// the run as a whole.
/// </summary>
public abstract class GupConformanceSpecificationTests
{
    /// <summary>The one factory the implementer writes.</summary>
    protected abstract IImplementationFactory CreateFactory();

    /// <summary>The run budget and seed; <see cref="RunOptions"/> defaults unless overridden.</summary>
    protected virtual RunOptions Options => new();

    /// <summary>Every profile id of the suite, oldest first.</summary>
    public static TheoryData<string> ProfileIds
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var profile in Profiles.All)
            {
                data.Add(profile.Id);
            }

            return data;
        }
    }

    [SkippableTheory]
    [MemberData(nameof(ProfileIds))]
    public void Implementation_conforms_under(string profileId)
    {
        var profile = Profiles.Get(profileId);
        var factory = CreateFactory();
        var manifest = factory.ManifestFor(profile);
        Skip.If(manifest is null, $"implementation '{factory.Name}' does not claim profile '{profileId}'");

        var check = GupProperty.Check(factory, profile, Options);
        Assert.True(check.Conformant, check.Message);
    }
}
