using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// The kernel-style reference implementation — written independently of the model — conforms under every profile
/// it claims, with the default budget, and that budget exercises every rule that applies.
/// </summary>
public sealed class ConformanceTests
{
    public static TheoryData<string> AllProfiles() => [.. Profiles.All.Select(p => p.Id)];

    [Theory]
    [MemberData(nameof(AllProfiles))]
    public void The_reference_implementation_conforms_and_every_applicable_rule_is_exercised_under(string profileId)
    {
        var profile = Profiles.Get(profileId);
        var result = ConformanceRun.Run(new KernelStyleFactory(), profile, new RunOptions());

        // The report carries the seed and the replay command, so a failure here can be reproduced at once.
        Assert.True(result.Conformant, ReportWriter.Render(result));
        Assert.Empty(result.Problems);
        foreach (var v in result.Verdicts)
        {
            if (v.Rule.Applies(profile))
            {
                Assert.True(v.Outcome == Outcome.Pass && v.Exercised > 0, $"{v.Rule.Id}: {v.Outcome} ({v.Note}), exercised {v.Exercised}");
            }
            else
            {
                Assert.Equal(Outcome.NotApplicable, v.Outcome);
            }
        }
    }

    [Fact]
    public void Every_check_and_every_exercised_rule_names_a_rule_of_the_catalogue_and_every_rule_is_exercised_somewhere()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var profile in Profiles.All)
        {
            var result = ConformanceRun.Run(new KernelStyleFactory(), profile, new RunOptions { Sequences = 60 });
            foreach (var id in result.ExercisedByRule.Keys)
            {
                Assert.True(Rules.Exists(id), $"{profile.Id}: the model cites unknown rule '{id}'");
                Assert.True(Rules.Get(id).AppliesTo(profile), $"{profile.Id}: the model cites '{id}', which does not apply to it");
                seen.Add(id);
            }
        }

        var never = Rules.All.Select(r => r.Id).Where(id => !seen.Contains(id)).ToList();
        Assert.True(never.Count == 0, "rules never exercised under any profile: " + string.Join(", ", never));
    }
}
