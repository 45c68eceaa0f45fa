using GupConformance.Fixtures;
using GupConformance.Spec;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Tests whose subject is the reference implementation (Fixtures/) itself rather than a rule: the factory's claims,
/// the consistency check it runs on each GUP result, and its pages array (PageArray). The reference's tests for a
/// rule are in that rule's group file; these check no rule, so they have this file.
/// </summary>
public sealed partial class ReferenceImplementationTests
{
    private const long Page = Sizes.PageSize;

    private static Folio FolioOf(string key, int order) => new(key, order, 1, null, 0);

    /// <summary>A deliberately wrong walk: it fills the pages array and then reports <paramref name="result"/> anyway.</summary>
    private sealed class ErrorWithPagesHeld(Profile profile, long result) : KernelStyleImplementation(profile)
    {
        protected override long GetUserPagesWalk(ulong start, long nrPages, long gupFlags, PageArray? pages)
        {
            base.GetUserPagesWalk(start, nrPages, gupFlags, pages);
            return result;
        }
    }

    [Fact]
    public void The_reference_factory_claims_every_named_profile_and_no_other()
    {
        var factory = new KernelStyleFactory();
        Assert.All(Profiles.All, p => Assert.NotNull(factory.ManifestFor(p)));
        Assert.Null(factory.ManifestFor(Profiles.Linux618 with { Id = "linux-6.18-unclaimed" }));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-Errno.EFAULT)]
    public void GUP_PARTIAL_RESULT_an_entry_point_that_returns_no_pages_but_holds_some_is_reported_as_a_bug_in_the_implementation(long result)
    {
        // i ? i : ret: a walk that grabbed entries returns how many; 0 or -errno with entries held leaks them. The
        // reference refuses to hide that (the engine reports the exception as a crash of the implementation).
        using var impl = new ErrorWithPagesHeld(Profiles.Linux618, result);
        impl.Execute(new MapRegion(1, RegionKind.Anon, Base, 2));
        var e = Assert.Throws<InvalidOperationException>(() => impl.Execute(new Gup(1, EntryPoint.PinUserPages, Base, 2, Foll.None, true)));
        Assert.Contains("pin_user_pages returned", e.Message, StringComparison.Ordinal);
        Assert.Contains("with 2 pages held", e.Message, StringComparison.Ordinal);
    }

    // ---- PageArray: the reference implementation's pages array (Mm.cs) ----------------------------------------------

    // Not kernel behaviour but the reference's own data structure, whose contract every release path and every broken
    // implementation rests on: entries kept as merged spans (a GUP over an order-18 folio is one span, not 262144
    // entries), and an out-of-range request refused loudly rather than answered with fewer entries.

    [Fact]
    public void PageArray_merges_consecutive_pages_of_one_folio_into_one_span_and_keeps_descending_ones_apart()
    {
        var f = FolioOf("r1.f0", 2);
        var up = new PageArray();
        up.Add(new Page(f, 0));
        up.Add(new Page(f, 1));
        var span = Assert.Single(up.Spans);
        Assert.Equal((0L, 2L), (span.First, span.Count));

        // Page 1 then page 0 are not a run: merging them would claim pages 1 and 2.
        var down = new PageArray();
        down.Add(new Page(f, 1));
        down.Add(new Page(f, 0));
        Assert.Equal([(1L, 1L), (0L, 1L)], down.Spans.Select(s => (s.First, s.Count)));
        Assert.Equal(2, down.Length);
    }

    [Fact]
    public void PageArray_stores_no_empty_span()
    {
        var f = FolioOf("r1.f0", 0);
        var a = new PageArray();
        a.AddSpan(new PageSpan(f, 0, 0));
        Assert.Empty(a.Spans);
        Assert.Equal(0, a.Length);
    }

    [Fact]
    public void PageArray_Slice_refuses_a_negative_index_a_negative_count_and_a_window_past_the_end()
    {
        var f = FolioOf("r1.f0", 1);
        var a = new PageArray();
        a.AddSpan(new PageSpan(f, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(-1, 1).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(0, -1).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(1, 2).ToList());
        Assert.Equal([(1L, 1L)], a.Slice(1, 1).Select(s => (s.First, s.Count)));
    }

    [Fact]
    public void PageArray_an_empty_slice_yields_no_span()
    {
        var a = new PageArray();
        a.AddSpan(new PageSpan(FolioOf("r1.f0", 1), 0, 2));
        Assert.Empty(a.Slice(0, 0));
        Assert.Empty(a.Slice(2, 0));
    }
}
