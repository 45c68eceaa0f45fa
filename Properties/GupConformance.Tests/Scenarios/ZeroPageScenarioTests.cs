using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for the shared zero page (ZERO-*): pinned or not by era, references, write faults, long-term unsharing,
/// the faulted page kept. The model's scenarios drive GupModel.Step directly and assert on the checks' allowed
/// values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or written to kill a
/// mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios found by
/// running the model against real kernels have their own section. Tests whose subject is the reference
/// implementation (Fixtures/) for the same rules follow in their own section: they stay with the rules they check,
/// so each rule has one place.
/// </summary>
public sealed partial class ZeroPageScenarioTests
{
    // ---- The model --------------------------------------------------------------------------------------------------

    [Fact]
    public void ZERO_PINNED_LEGACY_before_6_5_the_zero_page_is_pinned_with_the_bias()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1));
        Assert.Equal("[zero:0]", r.V("pages"));
        Assert.True(r.Exercised("ZERO-PINNED-LEGACY"));
        r.Inspect("zero");
        Assert.Equal("1025", r.V("refcount"));
        Assert.False(r.Has("dirty"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));
    }

    [Fact]
    public void ZERO_PINNED_LEGACY_is_not_cited_for_a_5_x_pin_of_an_ordinary_page()
    {
        var r = Anon(Profiles.Linux62).Do(Pin(1, A, 1));
        Assert.False(r.Exercised("ZERO-PINNED-LEGACY"));
        Assert.DoesNotContain("ZERO-PINNED-LEGACY", r.Inspect("r1.f0").RulesOf("refcount"));
    }

    [Fact]
    public void ZERO_PINNED_LEGACY_an_unpin_cites_it_only_for_the_zero_page()
    {
        var z = Zero(Profiles.Linux62).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        Assert.Contains("ZERO-PINNED-LEGACY", z.RulesOf("result"));
        var a = Anon(Profiles.Linux62).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        Assert.DoesNotContain("ZERO-PINNED-LEGACY", a.RulesOf("result"));
    }

    [Fact]
    public void ZERO_NOT_PINNED_from_6_5_the_zero_page_is_returned_but_not_pinned()
    {
        var r = Zero(Profiles.Linux65).Do(Pin(1, A, 2));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("[zero:0, zero:0]", r.V("pages"));
        Assert.True(r.Exercised("ZERO-NOT-PINNED"));
        r.Inspect("zero");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 2)).Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_acquired"));
        Assert.Equal("0", r.V("nr_foll_pin_released"));
        Assert.Contains("ZERO-NOT-PINNED", r.RulesOf("nr_foll_pin_acquired"));
    }

    [Fact]
    public void ZERO_NOT_PINNED_a_pin_and_unpin_of_the_zero_page_cite_it_on_the_refcount()
    {
        var r = Zero(Profiles.Linux65).Do(Pin(1, A, 2));
        r.Inspect("zero");
        Assert.Contains("ZERO-NOT-PINNED", r.RulesOf("refcount"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.True(r.Exercised("ZERO-NOT-PINNED"));
    }

    [Fact]
    public void ZERO_NOT_PINNED_an_unpin_of_the_unpinned_zero_page_cites_it_in_the_result()
    {
        var r = Zero(Profiles.Linux65).Do(Pin(1, A, 2)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 2));
        Assert.Contains("ZERO-NOT-PINNED", r.RulesOf("result"));
        Assert.True(r.Exercised("ZERO-NOT-PINNED"));
    }

    [Fact]
    public void ZERO_NOT_PINNED_the_zero_page_view_reports_no_dirty_flag()
    {
        var z = Zero(Profiles.Linux618).Do(Pin(1, A, 1, Foll.Write));
        var view = Assert.Single(z.State.Folios, v => v.Key == "zero");
        Assert.Null(view.Dirty);
    }

    [Fact]
    public void ZERO_GET_COUNTS_get_user_pages_adds_a_reference_to_the_zero_page()
    {
        var r = Zero(Profiles.Linux618).Do(Get(1, A, 2));
        Assert.True(r.Exercised("ZERO-GET-COUNTS"));
        r.Inspect("zero");
        Assert.Equal("3", r.V("refcount"));
    }

    [Fact]
    public void ZERO_GET_COUNTS_is_not_cited_for_a_legacy_pin_of_the_zero_page()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1));
        Assert.True(r.Exercised("ZERO-PINNED-LEGACY"));
        Assert.False(r.Exercised("ZERO-GET-COUNTS"));
    }

    [Fact]
    public void ZERO_WRITE_FAULT_a_write_pin_faults_in_a_fresh_page()
    {
        var r = Zero(Profiles.Linux618).Do(Pin(1, A + Page, 1, Foll.Write));
        Assert.Equal("[r1.f1:0]", r.V("pages"));
        Assert.True(r.Exercised("ZERO-WRITE-FAULT"));
        r.Inspect("r1.f1");
        Assert.Equal("1025", r.V("refcount"));
        Assert.Contains("ZERO-WRITE-FAULT", r.RulesOf("refcount"));
        r.Inspect("zero");
        Assert.Equal("1", r.V("refcount"));
        Assert.Null(r.Invalid(new InspectFolio("r1.f1")));
        Assert.NotNull(r.Invalid(new InspectFolio("r1.f0")));
    }

    [Fact]
    public void ZERO_WRITE_FAULT_the_fault_cause_is_cited_on_the_faulted_page()
    {
        var r = Zero(Profiles.Linux618).Do(new Gup(1, EntryPoint.PinUserPages, A + (ulong)Sizes.PageSize, 1, Foll.Write, true));
        r.Inspect("r1.f1");
        Assert.Contains("ZERO-WRITE-FAULT", r.RulesOf("refcount"));
    }

    [Fact]
    public void ZERO_WRITE_FAULT_the_account_shows_the_folio_the_fault_created()
    {
        var r = Zero(Profiles.Linux618).Do(Get(1, A, 1, Foll.Write));
        Assert.StartsWith("r1.f0 created, refcount 2, pincount 0, dirty false, pins 0;", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void ZERO_LONGTERM_UNSHARE_a_read_only_longterm_pin_never_pins_the_zero_page_from_6_2()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1, Foll.LongTerm));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.True(r.Exercised("ZERO-LONGTERM-UNSHARE"));
        var old = Zero(Profiles.Linux519).Do(Pin(1, A, 1, Foll.LongTerm));
        Assert.Equal("[zero:0]", old.V("pages"));
    }

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

    [Fact]
    public void ZERO_NOT_PINNED_holds_in_the_6_1_y_stable_branch()
    {
        // 6.1.192 try_grab_page()/try_grab_folio()/gup_put_folio(): is_zero_page() checks (the backport of c8070b787519).
        var r = Zero(Profiles.Linux61Stable, pages: 1).Do(Pin(1, A, 1));
        Assert.Equal("[zero:0]", r.V("pages"));
        Assert.True(r.Exercised("ZERO-NOT-PINNED"));
        r.Inspect("zero");
        Assert.Equal("1", r.V("refcount"));
        r.Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_acquired"));
    }

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void ZERO_GET_COUNTS_inspecting_the_zero_page_reports_no_dirty_flag()
    {
        var last = ExecuteOnReference("linux-6.18",
            new MapRegion(1, RegionKind.Zero, Base, 2),
            new Gup(1, EntryPoint.GetUserPages, Base, 2, Foll.None),
            new InspectFolio("zero"));
        Assert.Equal(3, last.Refcount);
        Assert.Null(last.Dirty);
    }
}
