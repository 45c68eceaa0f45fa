using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for refcount overflow (OVF-*) and GUP-PARTIAL-RESULT, which the catalogue files in the same group: no
/// saturation, the sign check, and what a call that stops early returns and keeps. The model's scenarios drive
/// GupModel.Step directly and assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios found by running the model against real
/// kernels have their own section. Tests whose subject is the reference implementation (Fixtures/) for the same
/// rules follow in their own section: they stay with the rules they check, so each rule has one place.
/// </summary>
public sealed partial class OverflowScenarioTests
{
    // ---- The model --------------------------------------------------------------------------------------------------

    [Fact]
    public void OVF_NO_SATURATION_a_grab_that_lands_exactly_on_INT_MAX_does_not_wrap()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482623).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.False(r.Exercised("OVF-NO-SATURATION"));
        r.Inspect("r1.f0");
        Assert.Equal("2147483647", r.V("refcount"));
        Assert.DoesNotContain("OVF-NO-SATURATION", r.RulesOf("refcount"));
    }

    [Fact]
    public void OVF_NO_SATURATION_an_unpin_below_int_MinValue_wraps()
    {
        var r = Anon(Profiles.Linux618, startRefcount: int.MaxValue - 100).Do(Pin(1, A, 1));
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        Assert.Contains("OVF-NO-SATURATION", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal((int.MaxValue - 100).ToString(System.Globalization.CultureInfo.InvariantCulture), r.V("refcount"));
        Assert.Contains("OVF-NO-SATURATION", r.RulesOf("refcount"));
    }

    [Fact]
    public void OVF_NO_SATURATION_an_unpin_reaching_exactly_int_MinValue_does_not_wrap()
    {
        var r = Anon(Profiles.Linux618, startRefcount: int.MaxValue - 1023).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        Assert.DoesNotContain("OVF-NO-SATURATION", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal(int.MinValue.ToString(System.Globalization.CultureInfo.InvariantCulture), r.V("refcount"));
    }

    [Fact]
    public void OVF_NO_SATURATION_folio_add_pin_above_int_MaxValue_wraps()
    {
        var r = Anon(Profiles.Linux618, startRefcount: int.MaxValue - 2000).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        Assert.Contains("OVF-NO-SATURATION", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Contains("OVF-NO-SATURATION", r.RulesOf("refcount"));
    }

    [Fact]
    public void OVF_NO_SATURATION_folio_add_pin_reaching_exactly_int_MaxValue_does_not_wrap()
    {
        var r = Anon(Profiles.Linux618, startRefcount: int.MaxValue - 2048).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        Assert.DoesNotContain("OVF-NO-SATURATION", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal(int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), r.V("refcount"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_the_pin_after_the_wrap_fails_with_ENOMEM()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1)).Do(Pin(2, A, 1));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.Equal("[]", r.V("pages"));
        Assert.Contains("OVF-SIGN-CHECK", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal("-2147483647", r.V("refcount"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));

        // Two entries of one order-1 bias folio: the first passes the check and wraps, the second fails.
        var two = Anon(Profiles.Linux57, startRefcount: 2147482625, order: 1).Do(Pin(1, A, 2));
        Assert.Equal("1", two.V("result"));
        Assert.Contains("GUP-PARTIAL-RESULT", two.RulesOf("result"));
        var zero = Anon(Profiles.Proposal2015GetVaddrPfns, startRefcount: 0).Do(Get(1, A, 1));
        Assert.Equal("-ENOMEM", zero.V("result"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_is_not_cited_when_every_entry_is_granted()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.False(r.Exercised("OVF-SIGN-CHECK"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_a_partly_granted_grab_cites_the_sign_check()
    {
        var r = Anon(Profiles.Linux57, order: 1, startRefcount: 2147482625).Do(Pin(1, A, 2));
        Assert.True(r.Exercised("OVF-SIGN-CHECK"));
        Assert.Contains("OVF-SIGN-CHECK", r.RulesOf("result"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_a_failed_grab_changes_neither_the_folio_nor_the_pin_counter()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1));
        r.Do(Pin(2, A, 1));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.False(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        r.Inspect("r1.f0");
        Assert.False(r.Exercised("CORE-NO-COLLATERAL"));
        Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_a_grab_refused_on_its_first_entry_leaves_an_empty_pages_array()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1)).Do(Pin(2, A, 1));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.Equal("[]", r.V("pages"));
        Assert.Empty(r.State.Arrays[2]);
    }

    [Fact]
    public void GUP_PARTIAL_RESULT_a_hole_after_two_pages_returns_2_and_keeps_them()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 4));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("[r1.f0:0, r1.f1:0]", r.V("pages"));
        Assert.Contains("GUP-PARTIAL-RESULT", r.RulesOf("result"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.Equal(2, r.State.Arrays[1].Sum(e => e.Count));
    }

    [Fact]
    public void GUP_PARTIAL_RESULT_a_v5_4_frame_vector_stopped_by_a_hole_returns_the_frames_it_got()
    {
        // get_vaddr_frames() returns get_user_pages_locked()'s partial count.
        var r = Anon(Profiles.Linux56).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 2, false));
        Assert.Equal("1", r.V("result"));
        Assert.Equal("1", r.V("nr_frames"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.Contains("GUP-PARTIAL-RESULT", r.RulesOf("result"));
    }

    [Fact]
    public void GUP_PARTIAL_RESULT_is_not_cited_when_get_user_pages_fast_only_gets_nothing()
    {
        // get_user_pages_fast_only() never falls back to the slow path: a hole gives 0, not a partial result.
        var r = new ModelRun(Profiles.Linux65).Do(Get(1, A, 1, e: EntryPoint.GetUserPagesFastOnly));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.DoesNotContain("GUP-PARTIAL-RESULT", r.RulesOf("result"));
        Assert.False(r.Exercised("GUP-PARTIAL-RESULT"));
    }

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

    [Fact]
    public void OVF_SIGN_CHECK_WITHOUT_GRAB_a_lookup_without_pages_stops_at_a_negative_refcount()
    {
        // 6.12 kernel, shrunk: zero region (2 pages), anon page at 2147482624, anon page; a pin wraps the second
        // region's folio negative; get_user_pages(start, 4, 0, pages=NULL) then returned 2, not 4.
        Command[] setup =
        [
            new MapRegion(2, RegionKind.Anon, A + (2 * Page), 1, 0, 2147482624),
            new MapRegion(3, RegionKind.Anon, A + (3 * Page), 1),
            Pin(13, A + Page, 3, Foll.None, EntryPoint.PinUserPagesFast),
        ];
        var now = Zero(Profiles.Linux612Stable);
        var before = Zero(Profiles.Linux68);
        foreach (var c in setup)
        {
            now.Do(c);
            before.Do(c);
        }

        now.Inspect("r2.f0");
        Assert.Equal("-2147483648", now.V("refcount"));

        now.Do(Get(16, A, 4, pages: false));
        Assert.Equal("2", now.V("result"));
        Assert.True(now.Exercised("OVF-SIGN-CHECK-WITHOUT-GRAB"));
        Assert.Contains("OVF-SIGN-CHECK-WITHOUT-GRAB", now.RulesOf("result"));

        // An era whose profile does not say so (linux-6.8 was not read for it) keeps the old reading.
        before.Do(Get(16, A, 4, pages: false));
        Assert.Equal("4", before.V("result"));
    }

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void OVF_SIGN_CHECK_pinning_a_folio_whose_refcount_is_0_fails_with_ENOMEM()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new MapRegion(1, RegionKind.Anon, Base, 1, StartRefcount: 0),
            new Gup(1, EntryPoint.PinUserPages, Base, 1, Foll.None));
        Assert.Equal(-Errno.ENOMEM, last.Result);
    }
}
