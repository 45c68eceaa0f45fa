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

    /// <summary>
    /// A rule's intent is one kind of value: the VMSTAT rules say what the nr_foll_pin_* counters do. A check of any
    /// other field (a result, a pages array, a refcount) that cites one would send a developer to the counters for a
    /// wrong return value. Over generated sequences of every profile: counter rules only on counter fields, and every
    /// counter field cites a counter rule.
    /// </summary>
    [Theory]
    [MemberData(nameof(ProfileIds))]
    public void A_counter_rule_is_cited_only_by_checks_of_the_counters(string profileId)
    {
        var profile = Profiles.Get(profileId);
        var wrong = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var generator = new SequenceGenerator(profile, profile.Facets);
        for (ulong seed = 1; seed <= 100; seed++)
        {
            generator.Generate(seed, 40, out var outcomes);
            foreach (var check in outcomes.SelectMany(o => o.Checks))
            {
                var counter = check.Field.StartsWith("nr_foll_pin_", StringComparison.Ordinal);
                var counterRules = check.Rules.Where(id => id.StartsWith("VMSTAT-", StringComparison.Ordinal)).ToList();
                if (!counter && counterRules.Count > 0)
                {
                    wrong.TryAdd($"{check.Field} cites {string.Join(", ", counterRules)}", $"seed {seed}");
                }
                else if (counter && counterRules.Count == 0 && !check.Rules.SequenceEqual(["CORE-NO-COLLATERAL"]))
                {
                    wrong.TryAdd($"{check.Field} cites no counter rule ({string.Join(", ", check.Rules)})", $"seed {seed}");
                }
            }
        }

        Assert.True(wrong.Count == 0, $"{profileId}: {string.Join("; ", wrong.Select(kv => $"{kv.Key} ({kv.Value})"))}");
    }

    /// <summary>
    /// A folio a write fault made, which the implementation does not report at all, is the fault's failure first
    /// (ZERO-WRITE-FAULT), not the pin's that followed it in the same step; a wrong value it does report cites the
    /// value's own provenance as before.
    /// </summary>
    [Fact]
    public void A_folio_a_fault_made_and_the_implementation_does_not_report_cites_the_fault_first()
    {
        var run = ModelRun.Zero(Profiles.Linux618).Do(ModelRun.Pin(1, ModelRun.A, 1, Foll.Write)).Inspect("r1.f0");
        var refcount = run.Last.Checks.Single(c => c.Field == "refcount");
        Assert.Equal("ZERO-WRITE-FAULT", refcount.RulesFor(null)[0]);
        Assert.Equal(refcount.Rules, refcount.RulesFor("7"));
        Assert.Equal("ZERO-WRITE-FAULT", RuleScopes.Cause(refcount.RulesFor(null), run.Last.Exercised, null, refcount.Allowed));
    }

    [Fact]
    public void Every_rule_given_a_scope_is_in_the_catalogue()
    {
        var known = Rules.All.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var unknown = RuleScopes.Listed.Where(id => !known.Contains(id)).ToList();
        Assert.True(unknown.Count == 0, $"Spec/RuleScopes.cs names rules the catalogue does not have: {string.Join(", ", unknown)}");
    }
}
