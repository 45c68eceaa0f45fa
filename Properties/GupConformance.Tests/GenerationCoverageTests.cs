using System.Collections.Concurrent;
using GupConformance.Engine;
using GupConformance.Engine.Coverage;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// Issue 12, generation that reaches rare shapes: within the default budget, swarm testing and coverage steering reach
/// every edge case the issue lists — a zero-length first segment in every iterator kind, a range starting inside a folio
/// and crossing it (and its range unpin), an already-dirty folio released with make_dirty over several folios, every
/// flag combination each entry point must refuse — under every profile; without steering some are never reached. And
/// the small-scope exhaustive mode finds a zoo bug whose minimal counterexample fits its depth.
/// </summary>
public sealed class GenerationCoverageTests
{
    private static readonly ConcurrentDictionary<string, Lazy<RunResult>> Default = new(StringComparer.Ordinal);

    public static TheoryData<string> AllProfiles() => [.. Profiles.All.Select(p => p.Id)];

    /// <summary>The reference implementation's default run under a profile (once per profile for this class).</summary>
    private static RunResult DefaultRun(string profileId) => Default.GetOrAdd(profileId, id => new Lazy<RunResult>(() =>
        ConformanceRun.Run(new KernelStyleFactory(), Profiles.Get(id), new RunOptions()))).Value;

    [Theory]
    [MemberData(nameof(AllProfiles))]
    public void The_default_budget_reaches_every_listed_edge_case_under(string profileId)
    {
        var profile = Profiles.Get(profileId);
        var result = DefaultRun(profileId);
        var edges = result.EdgeCases.ToDictionary(e => e.Label, e => e.Sequences, StringComparer.Ordinal);

        // The listed edge cases are targets wherever the profile has what they need ...
        foreach (var kind in EdgeCases.IterKinds(profile, profile.Facets).Where(k => EdgeCases.ZeroSegmentAccepted(profile, k)))
        {
            Assert.Contains(EdgeCases.ZeroSegmentLabel(kind), edges.Keys);
        }

        if (profile.Facets.HasFlag(Facet.LargeFolios))
        {
            Assert.Contains(EdgeCases.RangeCrossesFolioLabel, edges.Keys);
            if (profile.Pins != PinScheme.NoPins && profile.Version >= 515)
            {
                Assert.Contains(EdgeCases.RangeUnpinCrossesFolioLabel, edges.Keys);
            }
        }

        if (profile.Pins != PinScheme.NoPins)
        {
            Assert.Contains(EdgeCases.MakeDirtyAlreadyDirtyLabel, edges.Keys);
        }

        if (profile.Validation != ValidationScheme.PrePin)
        {
            // Every entry point of a validating era refuses something, and each refusal is its own target.
            foreach (var entry in profile.EntryPoints)
            {
                Assert.Contains(result.EdgeCases, e => e.Family == EdgeFamily.RefusedFlags && e.Label.StartsWith(entry.KernelName() + " ", StringComparison.Ordinal));
            }
        }

        // ... and every target is reached.
        var missed = result.EdgeCases.Where(e => e.Sequences == 0).Select(e => e.Label).ToList();
        Assert.True(missed.Count == 0, $"{profileId} (seed {result.Options.Seed}): not reached: {string.Join("; ", missed)}");
    }

    /// <summary>
    /// Three shapes each once took a zoo bug a hundred sequences or more to meet (iov-bvec-one-segment-after-6.13,
    /// bio-full-counts-pages, iov-nomem-after-pin): a bvec extraction walking on into the next bvec, a bio handed more
    /// pages than max_vecs, a user-backed extraction whose pages array cannot be allocated. They are steering targets
    /// wherever the profile has their rule, and the default budget reaches each.
    /// </summary>
    [Theory]
    [InlineData("linux-6.18")]
    [InlineData("linux-6.8")]
    public void The_default_budget_reaches_the_rare_iterator_shapes_under(string profileId)
    {
        var profile = Profiles.Get(profileId);
        var rare = new[] { Shape.BvecIntoNextSegment, Shape.BioMorePagesThanVecs, Shape.UserExtractionNoMem }
            .Where(s => s != Shape.BvecIntoNextSegment || Rules.Get("IOV-BVEC-MULTI-SEGMENT").AppliesTo(profile)).ToList();
        var targets = EdgeCases.Targets(profile, profile.Facets).Where(t => t.Shape is { } s && rare.Contains(s)).ToList();
        Assert.Equal(rare.Count, targets.Count);
        var run = DefaultRun(profileId);
        foreach (var t in targets)
        {
            Assert.True(run.EdgeCases.Single(e => e.Label == t.Label).Sequences > 0, $"{profileId} (seed {run.Options.Seed}): {t.Label} not reached");
        }
    }

    [Fact]
    public void Without_swarm_and_steering_the_default_budget_never_builds_a_zero_length_user_segment()
    {
        var profile = Profiles.Get("linux-6.18");
        var plain = GeneratorWeights.Default with { Swarm = false, DirectedPercent = 0 };
        var without = ConformanceRun.Run(new KernelStyleFactory(), profile, new RunOptions { Weights = plain });
        var with = DefaultRun(profile.Id);
        foreach (var label in new[] { EdgeCases.ZeroSegmentLabel(IterKind.Ubuf), EdgeCases.ZeroSegmentLabel(IterKind.Iovec) })
        {
            Assert.Equal(0, without.EdgeCases.Single(e => e.Label == label).Sequences);
            Assert.True(with.EdgeCases.Single(e => e.Label == label).Sequences >= EdgeTally.Wanted, label);
        }

        Assert.True(without.EdgeCases.Count(e => e.Sequences == 0) > 0);
    }

    [Fact]
    public void The_run_report_shows_the_edge_case_coverage()
    {
        var result = DefaultRun("linux-6.18");
        var text = ReportWriter.Render(result);
        Assert.Contains($"Edge cases reached: {result.EdgeCases.Count} of {result.EdgeCases.Count} targets", text, StringComparison.Ordinal);
        var md = MarkdownReport.Render(result);
        Assert.Contains("Edge-case coverage", md, StringComparison.Ordinal);
        Assert.Contains(EdgeCases.ZeroSegmentLabel(IterKind.Ubuf), md, StringComparison.Ordinal);
    }

    [Fact]
    public void Exhaustive_search_finds_a_zoo_bug_whose_minimal_counterexample_fits_its_depth()
    {
        var bug = BrokenImplementations.Find("broken-mdp-strictly-greater")!;
        var profile = Profiles.Get("linux-6.18");
        Assert.True(bug.Declaration.MinimalActions <= 1);

        var found = ExhaustiveRun.Run(bug.Factory, profile, depth: 1);
        Assert.False(found.Passed);
        var f = found.Failures[0];
        Assert.Contains("MDP-BIAS-THRESHOLD", f.ViolatedRules);
        Assert.True(f.Depth <= 1, ExhaustiveRun.Render(found));
        Assert.Equal(found.Setup.Count + f.Depth, f.Commands.Count);

        // The reference implementation passes the same scope, and the counts say what was checked.
        var reference = ExhaustiveRun.Run(new KernelStyleFactory(), profile, depth: 1);
        Assert.True(reference.Passed, ExhaustiveRun.Render(reference));
        Assert.True(reference.Levels[1].Sequences > 100 && reference.Levels[1].DistinctStates > 10, ExhaustiveRun.Render(reference));
        Assert.Contains("distinct model states", ExhaustiveRun.Render(reference), StringComparison.Ordinal);
    }
}
