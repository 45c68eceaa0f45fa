using System.Text.RegularExpressions;
using GupConformance.Spec;
using GupConformance.Tests.Snapshots;

namespace GupConformance.Tests;

/// <summary>The rule catalogue and the profiles as data: complete, well-formed, and rendered documents kept current.</summary>
public sealed partial class CatalogueTests
{
    [Fact]
    public void The_catalogue_has_at_least_60_rules_with_unique_well_formed_ids()
    {
        Assert.True(Rules.All.Count >= 60, $"only {Rules.All.Count} rules");
        var duplicates = Rules.All.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
        var malformed = Rules.All.Where(r => !IdPattern().IsMatch(r.Id) || !r.Id.StartsWith(r.Group + "-", StringComparison.Ordinal)
            && r.Group != "OVF").Select(r => r.Id).ToList();
        Assert.Empty(malformed);
    }

    [Fact]
    public void Every_rule_has_an_intent_a_hint_a_source_and_at_least_one_profile()
    {
        foreach (var r in Rules.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(r.Title), r.Id);
            Assert.True(r.Intent.Length > 40, $"{r.Id}: intent too short");
            Assert.True(r.IfFails.StartsWith("check", StringComparison.Ordinal), $"{r.Id}: the hint should say what to check");
            Assert.Matches(SourcePattern(), r.Source);
            Assert.NotEmpty(r.Profiles);
        }
    }

    [Fact]
    public void The_eleven_named_profiles_exist_and_the_default_is_the_newest_release()
    {
        string[] required =
        [
            "linux-5.6", "linux-5.7", "linux-5.19", "linux-6.2", "linux-6.5", "linux-6.8", "linux-6.15", "linux-6.15-32bit",
            "linux-6.18", "proposal-2015-get-vaddr-pfns", "proposal-2022-iov-extract-rfc", "proposal-2023-iov-extract-v8",
        ];
        foreach (var id in required)
        {
            Assert.NotNull(Profiles.Find(id));
        }

        Assert.Equal("linux-6.18", Profiles.Default.Id);
        Assert.Equal(Profiles.All.Count, Profiles.All.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public void Flag_values_are_kept_per_era_FOLL_PIN_moves_from_0x40000_to_bit_19_and_bit_0_in_v8()
    {
        Assert.Equal(0x40000, Profiles.Linux62.Flags.ValueOf(Foll.Pin));
        Assert.Equal(0x04, Profiles.Linux62.Flags.ValueOf(Foll.Get));
        Assert.Equal(1L << 19, Profiles.Linux65.Flags.ValueOf(Foll.Pin));
        Assert.Equal(1L << 1, Profiles.Linux65.Flags.ValueOf(Foll.Get));
        Assert.Equal(0x100, Profiles.Linux65.Flags.ValueOf(Foll.LongTerm));
        Assert.Equal(0x01, Profiles.Proposal2023IovExtractV8.Flags.ValueOf(Foll.Pin));
        Assert.Equal(0x02, Profiles.Proposal2023IovExtractV8.Flags.ValueOf(Foll.Get));
        Assert.False(Profiles.Proposal2015GetVaddrPfns.Flags.Exists(Foll.Pin));
        foreach (var p in Profiles.All)
        {
            var all = p.Flags.Entries.Aggregate(Foll.None, (acc, e) => acc | e.Flag);
            Assert.Equal(all, p.Flags.Decode(p.Flags.Encode(all)));
        }
    }

    [Fact]
    public void Every_profile_has_rules_of_every_facet_it_offers()
    {
        foreach (var p in Profiles.All)
        {
            foreach (var facet in Enum.GetValues<Facet>().Where(f => f is not Facet.None and not Facet.All && p.Facets.HasFlag(f)))
            {
                Assert.True(Rules.All.Any(r => r.Facet == facet && r.Applies(p)), $"{p.Id} offers {facet} but no rule of it applies");
            }
        }
    }

    [Fact]
    public void RULES_md_is_the_current_rendering_of_the_catalogue() =>
        SnapshotAssert.MatchesDocument(RepoPaths.Of("Spec", "RULES.md"), CatalogueDocument.RenderRules());

    [Fact]
    public void PROFILES_md_is_the_current_rendering_of_the_profiles() =>
        SnapshotAssert.MatchesDocument(RepoPaths.Of("Spec", "PROFILES.md"), CatalogueDocument.RenderProfiles());

    [GeneratedRegex("^[A-Z0-9]+(-[A-Z0-9]+)+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"(v\d|seed|mm/|lib/|block/|fs/|include/|drivers/)")]
    private static partial Regex SourcePattern();
}
