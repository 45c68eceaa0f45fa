using GupConformance.Engine;
using GupConformance.Engine.Coverage;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Tests.Verdicts;

/// <summary>
/// Every rule a check cites must be true for the run's profile: a failure must never send a developer to a rule of
/// another era. Checked over every check the model emits along generated sequences of each profile (all facets), and
/// over the checks of the refused flag combinations the exhaustive alphabet tries.
/// </summary>
public sealed class CitedRuleTests
{
    public static TheoryData<string> ProfileIds => [.. Profiles.All.Select(p => p.Id)];

    [Theory]
    [MemberData(nameof(ProfileIds))]
    public void Every_rule_a_check_cites_applies_to_the_profile(string profileId)
    {
        var profile = Profiles.Get(profileId);
        var outside = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var generator = new SequenceGenerator(profile, profile.Facets);
        for (ulong seed = 1; seed <= 150; seed++)
        {
            generator.Generate(seed, 40, out var outcomes);
            foreach (var outcome in outcomes)
            {
                foreach (var check in outcome.Checks)
                {
                    foreach (var id in check.Rules.Where(id => !Rules.Get(id).AppliesTo(profile)))
                    {
                        outside.TryAdd(id, $"{check.Field} (seed {seed})");
                    }
                }
            }
        }

        // Every flag combination an entry point refuses in this era, after the exhaustive set-up (rare in generation).
        var setup = ExhaustiveRun.Setup(profile, profile.Facets);
        foreach (var target in EdgeCases.Targets(profile, profile.Facets).Where(t => t.Family == EdgeFamily.RefusedFlags))
        {
            var state = GupModel.Init(profile);
            foreach (var c in setup)
            {
                state = GupModel.Step(state, c).Next;
            }

            var gup = new Gup(setup.Count + 1, target.Entry!.Value, target.Overflow ? unchecked(0UL - 4096UL) : SequenceGenerator.BaseAddress,
                target.Overflow ? 2 : 1, target.Flags, target.WithPages);
            Assert.Null(GupModel.Precondition(state, gup));
            foreach (var check in GupModel.Step(state, gup).Checks)
            {
                foreach (var id in check.Rules.Where(id => !Rules.Get(id).AppliesTo(profile)))
                {
                    outside.TryAdd(id, $"{check.Field} ({target.Label})");
                }
            }
        }

        Assert.True(outside.Count == 0, $"{profileId}: checks cite rules outside the profile: {string.Join("; ", outside.Select(kv => $"{kv.Key} at {kv.Value}"))}");
    }

    [Fact]
    public void Every_rule_given_a_scope_is_in_the_catalogue()
    {
        var known = Rules.All.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var unknown = RuleScopes.Listed.Where(id => !known.Contains(id)).ToList();
        Assert.True(unknown.Count == 0, $"Spec/RuleScopes.cs names rules the catalogue does not have: {string.Join(", ", unknown)}");
    }
}
