using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// What the scenario files share: the addresses they map at, the runs they start from, and the checks that replay a
/// sequence on the reference implementation (Fixtures/) and compare it with the model. A helper one file alone uses
/// stays in that file.
/// </summary>
internal static partial class ScenarioSupport
{
    internal const ulong B = 0x20000000;

    internal const ulong C = 0x30000000;

    internal const long Page = Sizes.PageSize;

    /// <summary>Where region 2 (one order-2 folio, r2.f0) is mapped by <see cref="IterC"/>.</summary>
    internal const ulong LargeC = 0x20000000;

    internal const ulong Base = 0x10000;

    internal static string Result(Profile p, Gup g)
    {
        var r = Anon(p, folios: 4).Do(new MapRegion(2, RegionKind.File, B, 2)).Do(new MapRegion(3, RegionKind.Io, C, 2)).Do(g);
        return r.V("result");
    }

    internal static ModelRun Iter(Profile p, IterKind kind, IterDir dir, params IterSeg[] segs) => ModelRun.Iter(p, kind, dir, B, 9, segs);

    /// <summary>A shared file mapping: clean pages are mapped read-only, so a write lookup write-faults them.</summary>
    internal static ModelRun FileRegion(Profile p, int pages = 2) =>
        new ModelRun(p).Do(new MapRegion(1, RegionKind.File, A, pages));

    /// <summary>Region 1: eight order-0 folios at A; region 2: one order-2 folio at <see cref="LargeC"/>; iterator 1 over <paramref name="segs"/>.</summary>
    internal static ModelRun IterC(Profile p, IterKind kind, IterDir dir, params IterSeg[] segs) => ModelRun.Iter(p, kind, dir, LargeC, 2, segs);

    /// <summary>
    /// Checks that the sequence is valid under the profile and that the reference implementation agrees with the model
    /// on every observation of it; returns the last observation of a second, fresh run for exact assertions.
    /// </summary>
    internal static Observation AssertReferenceAgreesWithModel(string profileId, params Command[] actions)
    {
        var profile = Profiles.Get(profileId);
        Assert.Null(Shrinker.Validate(profile, profile.Facets, actions));
        using (var executor = new SequenceExecutor(new KernelStyleFactory(), profile, profile.Facets, TimeSpan.FromSeconds(5)))
        {
            var result = executor.Execute(actions);
            Assert.True(result.Passed, $"{result.Status} at action {result.FailedAction} ({result.FailedCommand}): {result.Message} "
                + string.Join("; ", result.Mismatches.Select(m =>
                    $"{m.Field}: observed {m.Observed ?? "(none)"}, allowed {string.Join(" | ", m.Allowed)} [{string.Join(", ", m.Rules)}]")));
        }

        return ExecuteOnReference(profileId, actions);
    }

    /// <summary>Executes the commands on a fresh reference implementation and returns the last observation.</summary>
    internal static Observation ExecuteOnReference(string profileId, params Command[] commands)
    {
        using var impl = new KernelStyleFactory().Create(Profiles.Get(profileId));
        var last = new Observation();
        foreach (var c in commands)
        {
            last = impl.Execute(c);
        }

        return last;
    }

    /// <summary>
    /// Runs <paramref name="actions"/> on <paramref name="factory"/> and the model; every observation must match. An
    /// implementation that does not claim the profile is not asked.
    /// </summary>
    internal static void AssertAgrees(IImplementationFactory factory, string profileId, IReadOnlyList<Command> actions)
    {
        var profile = Profiles.Get(profileId);
        if (factory.ManifestFor(profile) is not { } manifest)
        {
            return;
        }

        var facets = manifest.Facets;
        Assert.All(actions, c => Assert.True((c.Needs & facets) != 0, $"{factory.Name} does not claim a facet {c} needs"));
        Assert.Null(Shrinker.Validate(profile, profile.Facets, actions));
        using var executor = new SequenceExecutor(factory, profile, facets, TimeSpan.FromSeconds(10));
        var result = executor.Execute(actions);
        Assert.True(result.Passed, $"{factory.Name} under {profileId}: {result.Status} at action {result.FailedAction} ({result.FailedCommand}): {result.Message} "
            + string.Join("; ", result.Mismatches.Select(m =>
                $"{m.Field}: observed {m.Observed ?? "(none)"}, allowed {string.Join(" | ", m.Allowed)} [{string.Join(", ", m.Rules)}]")));
    }

    /// <summary>The reference implementation agrees with the model on the scenario.</summary>
    internal static void AssertReferenceAgrees(string profileId, params Command[] actions) =>
        AssertAgrees(new KernelStyleFactory(), profileId, actions);

    /// <summary>Region 1: eight order-0 folios at A; region 2: one order-9 folio at B; iterator 1: a BVEC over <paramref name="segs"/>.</summary>
    internal static ModelRun Bvec(Profile p, params IterSeg[] segs) => ModelRun.Iter(p, IterKind.Bvec, IterDir.Source, B, 9, segs);

    internal static Command[] BvecActions(IterSeg[] segs, params Command[] then) =>
        [new MapRegion(1, RegionKind.Anon, A, 8), new MapRegion(2, RegionKind.Anon, B, 1, 9), new IterInit(1, IterKind.Bvec, IterDir.Source, segs), .. then];
}
