using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>Kills the surviving mutants of Oracles/Folios.cs, Inspect.cs and Release.cs (batch B).</summary>
public sealed partial class MutantKillerTests
{
    [Fact]
    public void ZERO_NOT_PINNED_an_unpin_of_the_unpinned_zero_page_cites_it_in_the_result()
    {
        var r = Zero(Profiles.Linux65).Do(Pin(1, A, 2)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 2));
        Assert.Contains("ZERO-NOT-PINNED", r.RulesOf("result"));
        Assert.True(r.Exercised("ZERO-NOT-PINNED"));
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
    public void REL_UNPIN_BIAS_an_unpin_leaves_the_pin_count_alone_and_drops_one_pin()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        Assert.StartsWith("r1.f0 refcount 1025→1, pins 1→0;", r.Last.Change, StringComparison.Ordinal);
        Assert.DoesNotContain("pincount", r.Last.Change, StringComparison.Ordinal);
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
    public void PIN_FOLIO_ADD_PIN_on_the_unpinned_zero_page_changes_nothing()
    {
        var r = Zero(Profiles.Linux65).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("folio_add_pin(zero) as array 2", r.Last.Change);
    }

    [Fact]
    public void PIN_FOLIO_ADD_PIN_adds_one_pin_and_notes_the_new_array()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("r1.f0 refcount 1025→2049, pins 1→2; folio_add_pin(r1.f0) as array 2", r.Last.Change);
    }

    [Fact]
    public void REL_UNPIN_DIRTY_LOCK_never_dirties_the_zero_page()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, MakeDirty: true));
        Assert.DoesNotContain("dirty", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void REL_UNPIN_RANGE_DIRTY_LOCK_on_a_dirty_folio_keeps_the_rule_that_dirtied_it()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(Pin(2, A, 1));
        r.Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, MakeDirty: true));
        r.Do(new Release(2, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 1, MakeDirty: true));
        r.Inspect("r1.f0");
        Assert.Equal("true", r.V("dirty"));
        Assert.Contains("REL-UNPIN-DIRTY-LOCK", r.RulesOf("dirty"));
        Assert.Contains("REL-UNPIN-RANGE-DIRTY-LOCK", r.RulesOf("dirty"));
    }

    [Fact]
    public void MDP_BIAS_THRESHOLD_a_zero_refcount_is_not_a_wrap()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 0).Inspect("r1.f0");
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        Assert.DoesNotContain("MDP-UNSIGNED-AFTER-WRAP", r.RulesOf("maybe_dma_pinned"));
    }

    [Fact]
    public void MDP_NO_FALSE_NEGATIVE_is_not_checked_without_pins()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2000).Inspect("r1.f0");
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.Single(r.Last.Checks, k => k.Field == "maybe_dma_pinned");
        Assert.False(r.Exercised("MDP-NO-FALSE-NEGATIVE"));
    }

    [Fact]
    public void CORE_NO_COLLATERAL_the_folio_views_report_pincount_and_dirty_only_where_they_exist()
    {
        var small = Anon(Profiles.Linux618);
        Assert.Null(Assert.Single(small.State.Folios).Pincount);
        Assert.False(Assert.Single(small.State.Folios).Dirty);
        var large = Anon(Profiles.Linux618, order: 9);
        Assert.Equal(0, Assert.Single(large.State.Folios).Pincount);
    }

    [Fact]
    public void ZERO_NOT_PINNED_the_zero_page_view_reports_no_dirty_flag()
    {
        var z = Zero(Profiles.Linux618).Do(Pin(1, A, 1, Foll.Write));
        var view = Assert.Single(z.State.Folios, v => v.Key == "zero");
        Assert.Null(view.Dirty);
    }

    [Fact]
    public void CORE_NO_COLLATERAL_is_cited_only_for_a_folio_the_last_command_did_not_address()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 1)).Do(Pin(2, A + Sizes.PageSize, 1));
        r.Inspect("r1.f0");
        Assert.Contains("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
        r.Inspect("r1.f1");
        Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
    }

    [Fact]
    public void VMSTAT_ACQ_PER_ENTRY_and_VMSTAT_REL_PER_ENTRY_are_exercised_by_reading_the_counters()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        r.Vmstat();
        Assert.True(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        Assert.True(r.Exercised("VMSTAT-REL-PER-ENTRY"));
    }

    [Fact]
    public void REL_UNPIN_PAGES_BATCH_a_partial_release_keeps_the_remaining_entries_offsets_and_notes_the_range()
    {
        var r = Anon(Profiles.Linux618, folios: 3, order: 1).Do(Pin(1, A, 5));
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 2, 1));
        Assert.EndsWith("released array 1[2..+1) with UnpinUserPages", r.Last.Change, StringComparison.Ordinal);
        r.Do(new FolioAddPin(2, 1, 3));
        Assert.Equal("[r1.f1:1]", r.V("pages"));
    }
}
