using System.Collections.Concurrent;
using GupConformance.Engine;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// Tests of the tests: every deliberately broken implementation is caught under the profiles where it is wrong,
/// by a rule it declares, with a counterexample shrunk to its declared minimal length — and passes under the
/// profiles where its bug is not a bug (which is how profiles are shown to matter).
/// </summary>
[Trait("Tier", "Deep")]
public sealed class BrokenImplementationTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var b in BrokenImplementations.All)
        {
            foreach (var p in Profiles.All)
            {
                data.Add(b.Name, p.Id);
            }
        }

        return data;
    }

    /// <summary>Every case's run, made once for all of them on every core (each run is independent and deterministic).</summary>
    private static readonly Lazy<ConcurrentDictionary<(string Bug, string Profile), RunResult>> Runs = new(() =>
    {
        var results = new ConcurrentDictionary<(string, string), RunResult>();
        var jobs = BrokenImplementations.All.SelectMany(b => Profiles.All.Select(p => (Bug: b, Profile: p))).ToList();
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, job =>
            results[(job.Bug.Name, job.Profile.Id)] = ConformanceRun.Run(job.Bug.Factory, job.Profile,
                new RunOptions { StopAtFirstFailure = job.Bug.Declaration.IsWrongIn(job.Profile) }));
        return results;
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_broken_implementation_is_caught_exactly_where_its_bug_is_wrong(string bugName, string profileId)
    {
        var bug = BrokenImplementations.Find(bugName)!;
        var profile = Profiles.Get(profileId);
        var result = Runs.Value[(bugName, profileId)];

        if (!bug.Declaration.IsWrongIn(profile))
        {
            Assert.True(result.Conformant, $"{bugName} should pass under {profileId}, where its bug is not wrong:\n{ReportWriter.Render(result)}");
            return;
        }

        Assert.False(result.Conformant, $"{bugName} was not caught under {profileId} with seed {result.Options.Seed}");
        // The run may capture several failures; the one that matters names a declared rule, at its shortest.
        var matching = result.Counterexamples.Where(c => c.ViolatedRules.Intersect(bug.Declaration.Violates).Any()).ToList();
        Assert.True(matching.Count > 0,
            $"{bugName} under {profileId}: no counterexample names a declared rule [{string.Join(", ", bug.Declaration.Violates)}]\n{ReportWriter.Render(result)}");
        var cx = matching.MinBy(c => c.Commands.Count)!;
        // Shorter than declared means the declaration is wrong; one more is the slack of deletion-only shrinking.
        Assert.True(cx.Commands.Count >= bug.Declaration.MinimalActions && cx.Commands.Count <= bug.Declaration.MinimalActions + 1,
            $"{bugName} under {profileId}: shrunk to {cx.Commands.Count} actions, declared minimal {bug.Declaration.MinimalActions}\n{ReportWriter.Render(result)}");
        foreach (var declared in bug.Declaration.Violates)
        {
            Assert.True(Rules.Exists(declared), $"{bugName} declares unknown rule {declared}");
        }
    }

    [Fact]
    public void Every_rule_group_has_a_broken_implementation_that_violates_one_of_its_rules()
    {
        var groups = Rules.All.Select(r => r.Group).Distinct().ToList();
        var covered = BrokenImplementations.All.SelectMany(b => b.Declaration.Violates).Select(id => Rules.Get(id).Group).ToHashSet();
        var uncovered = groups.Where(g => !covered.Contains(g)).ToList();
        Assert.True(uncovered.Count == 0, "groups no broken implementation violates: " + string.Join(", ", uncovered));
    }
}
