using GupConformance.Oracles;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>
/// Hand-derived scenarios for the reference model, with the exact numbers of
/// shared/reference/linux-gup-semantics.md: at least one per rule of the catalogue. Each drives GupModel.Step
/// directly and asserts on the checks' allowed values and on the next state.
/// </summary>
public sealed partial class OracleScenarioTests
{
    private const ulong B = 0x20000000;
    private const ulong C = 0x30000000;
    private const long Page = Sizes.PageSize;

    // ---- PIN ------------------------------------------------------------------------------------------

    [Fact]
    public void PIN_PLACEHOLDER_PLUS_ONE_a_5_6_pin_is_one_reference()
    {
        var r = Anon(Profiles.Linux56).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("PIN-PLACEHOLDER-PLUS-ONE"));
        r.Inspect("r1.f0");
        Assert.Equal("2", r.V("refcount"));
        Assert.False(r.Has("maybe_dma_pinned"));
        Assert.NotNull(r.Invalid(new ReadVmstat()));
    }

    [Fact]
    public void PIN_BIAS_SMALL_a_pin_adds_1024_to_an_order0_page()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.True(r.Exercised("PIN-BIAS-SMALL"));
        Assert.True(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        Assert.Contains("PIN-BIAS-SMALL", r.RulesOf("refcount"));
        Assert.False(r.Has("pincount"));
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));
        Assert.Equal("0", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void PIN_BIAS_ORDER1_LEGACY_a_5_7_order1_page_is_pinned_with_the_bias()
    {
        var r = Anon(Profiles.Linux57, order: 1).Do(Pin(1, A, 2));
        Assert.True(r.Exercised("PIN-BIAS-ORDER1-LEGACY"));
        r.Inspect("r1.f0");
        Assert.Equal("2049", r.V("refcount"));
        Assert.False(r.Has("pincount"));
        Assert.Contains("MDP-BIAS-THRESHOLD", r.RulesOf("maybe_dma_pinned"));
    }

    [Fact]
    public void PIN_EXACT_LARGE_a_pin_of_every_page_of_an_order9_folio_adds_512_refs_and_512_pins()
    {
        var r = Anon(Profiles.Linux618, order: 9).Do(Pin(1, A, 512));
        Assert.Equal("512", r.V("result"));
        Assert.Equal("[r1.f0:0+512]", r.V("pages"));
        Assert.True(r.Exercised("PIN-EXACT-LARGE"));
        r.Inspect("r1.f0");
        Assert.Equal("513", r.V("refcount"));
        Assert.Equal("512", r.V("pincount"));
        Assert.Contains("MDP-EXACT", r.RulesOf("maybe_dma_pinned"));
        r.Vmstat();
        Assert.Equal("512", r.V("nr_foll_pin_acquired"));
    }

    [Fact]
    public void PIN_EXACT_LARGE_a_1GiB_folio_costs_what_a_small_page_costs()
    {
        var r = Anon(Profiles.Linux618, folios: 4, order: 18);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        r.Do(Pin(1, A, 4L << 18));
        r.Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 4 << 18, MakeDirty: true));
        sw.Stop();
        Assert.True(sw.ElapsedMilliseconds < 2000, $"took {sw.ElapsedMilliseconds} ms");
        r.Inspect("r1.f3");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("0", r.V("pincount"));
        Assert.Equal("true", r.V("dirty"));
        r.Vmstat();
        Assert.Equal("1048576", r.V("nr_foll_pin_acquired"));
        Assert.Equal("1048576", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void PIN_EXACT_ORDER1_a_5_19_order1_folio_counts_pins_exactly()
    {
        var r = Anon(Profiles.Linux519, order: 1).Do(Pin(1, A, 2));
        Assert.True(r.Exercised("PIN-EXACT-ORDER1"));
        r.Inspect("r1.f0");
        Assert.Equal("3", r.V("refcount"));
        Assert.Equal("2", r.V("pincount"));
    }

    [Fact]
    public void PIN_BIAS_ORDER1_32BIT_a_6_15_32bit_order1_folio_is_back_on_the_bias()
    {
        var r = Anon(Profiles.Linux615Bit32, order: 1).Do(Pin(1, A, 1));
        Assert.True(r.Exercised("PIN-BIAS-ORDER1-32BIT"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        Assert.False(r.Has("pincount"));
        var big = Anon(Profiles.Linux615Bit32, order: 2).Do(Pin(1, A, 1)).Inspect("r1.f0");
        Assert.Equal("2", big.V("refcount"));
        Assert.Equal("1", big.V("pincount"));
    }

    [Fact]
    public void PIN_FOLIO_ADD_PIN_adds_1024_to_a_small_folio_and_one_ref_and_pin_to_a_large_one()
    {
        var r = Anon(Profiles.Linux65).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.True(r.Exercised("PIN-FOLIO-ADD-PIN"));
        r.Inspect("r1.f0");
        Assert.Equal("2049", r.V("refcount"));
        var large = Anon(Profiles.Linux65, order: 2).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0)).Inspect("r1.f0");
        Assert.Equal("3", large.V("refcount"));
        Assert.Equal("2", large.V("pincount"));
    }

    // ---- REF ----------------------------------------------------------------------------------------------

    [Fact]
    public void REF_GET_PLUS_ONE_get_user_pages_fast_adds_one_ref_per_entry_to_the_folio()
    {
        var r = Anon(Profiles.Linux618, order: 2).Do(Get(1, A, 4, e: EntryPoint.GetUserPagesFast));
        Assert.Equal("4", r.V("result"));
        Assert.Equal("[r1.f0:0+4]", r.V("pages"));
        Assert.True(r.Exercised("REF-GET-PLUS-ONE"));
        r.Inspect("r1.f0");
        Assert.Equal("5", r.V("refcount"));
        Assert.Equal("0", r.V("pincount"));
        Assert.Equal("false", r.V("maybe_dma_pinned"));
    }

    [Fact]
    public void REF_LARGE_FOLIO_HEAD_a_ref_on_a_tail_page_counts_on_the_folio()
    {
        var r = Anon(Profiles.Linux618, order: 4).Do(Get(1, A + (5 * Page), 2));
        Assert.Equal("[r1.f0:5+2]", r.V("pages"));
        Assert.True(r.Exercised("REF-LARGE-FOLIO-HEAD"));
        Assert.Equal("3", r.Inspect("r1.f0").V("refcount"));
        r.Do(new Release(1, ReleaseFn.PutPage, 1, 1));
        Assert.True(r.Exercised("REF-LARGE-FOLIO-HEAD"));
        Assert.Equal("2", r.Inspect("r1.f0").V("refcount"));
    }

    [Fact]
    public void REF_IMPLIED_GET_get_user_pages_with_pages_and_no_flags_takes_references()
    {
        foreach (var p in new[] { Profiles.Proposal2015GetVaddrPfns, Profiles.Linux57, Profiles.Linux618 })
        {
            var r = Anon(p).Do(Get(1, A, 1));
            Assert.True(r.Exercised("REF-IMPLIED-GET"), p.Id);
            r.Inspect("r1.f0");
            Assert.Equal("2", r.V("refcount"));
        }
    }

    [Fact]
    public void REF_NO_PAGES_NO_REF_get_user_pages_without_pages_holds_nothing()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Get(1, A, 2, pages: false));
        Assert.Equal("2", r.V("result"));
        Assert.False(r.Has("pages"));
        Assert.True(r.Exercised("REF-NO-PAGES-NO-REF"));
        r.Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("REF-NO-PAGES-NO-REF", r.RulesOf("refcount"));
    }

    // ---- MDP ----------------------------------------------------------------------------------------------

    [Fact]
    public void MDP_NO_FALSE_NEGATIVE_a_pinned_folio_is_checked_to_read_true()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Inspect("r1.f0");
        var checks = r.Last.Checks.Where(k => k.Field == "maybe_dma_pinned").ToList();
        Assert.Equal(2, checks.Count);
        Assert.Contains(checks, k => k.Allowed.SequenceEqual(["true"]) && k.Rules.Contains("MDP-NO-FALSE-NEGATIVE"));
        Assert.True(r.Exercised("MDP-NO-FALSE-NEGATIVE"));
    }

    [Fact]
    public void MDP_BIAS_THRESHOLD_1023_refs_do_not_look_pinned_and_1024_do()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 1023).Inspect("r1.f0");
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        Assert.Contains("MDP-BIAS-THRESHOLD", r.RulesOf("maybe_dma_pinned"));
        r.Do(Get(1, A, 1)).Inspect("r1.f0");
        Assert.Equal("1024", r.V("refcount"));
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.True(r.Exercised("MDP-BIAS-THRESHOLD"));
    }

    [Fact]
    public void MDP_EXACT_many_refs_on_an_exact_folio_do_not_look_pinned()
    {
        var r = Anon(Profiles.Linux57, order: 2, startRefcount: 5000).Inspect("r1.f0");
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        Assert.Contains("MDP-EXACT", r.RulesOf("maybe_dma_pinned"));
        r.Do(Pin(1, A, 1)).Inspect("r1.f0");
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.True(r.Exercised("MDP-EXACT"));
    }

    [Fact]
    public void MDP_UNSIGNED_AFTER_WRAP_OVF_NO_SATURATION_a_pin_at_2147482625_wraps_and_still_reads_pinned()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("OVF-NO-SATURATION"));
        r.Inspect("r1.f0");
        Assert.Equal("-2147483647", r.V("refcount"));
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.Contains("MDP-UNSIGNED-AFTER-WRAP", r.RulesOf("maybe_dma_pinned"));
        Assert.Contains("OVF-NO-SATURATION", r.RulesOf("refcount"));
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

    // ---- REL ------------------------------------------------------------------------------------------------

    [Fact]
    public void REL_PUT_PAGE_put_page_drops_one_reference()
    {
        var r = Anon(Profiles.Linux618).Do(Get(1, A, 1)).Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.Equal("0", r.V("result"));
        Assert.True(r.Exercised("REL-PUT-PAGE"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
    }

    [Fact]
    public void REL_UNPIN_BIAS_unpin_subtracts_1024_and_counts_one_release()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.True(r.Exercised("REL-UNPIN-BIAS"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void REL_UNPIN_EXACT_unpinning_512_entries_of_an_order9_folio_restores_it()
    {
        var r = Anon(Profiles.Linux519, order: 9).Do(Pin(1, A, 512)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 512));
        Assert.True(r.Exercised("REL-UNPIN-EXACT"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("0", r.V("pincount"));
        r.Vmstat();
        Assert.Equal("512", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void REL_UNPIN_PLUS_ONE_a_5_6_unpin_is_a_put()
    {
        var r = Anon(Profiles.Linux56).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.True(r.Exercised("REL-UNPIN-PLUS-ONE"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
    }

    [Fact]
    public void REL_UNPIN_PAGES_BATCH_unpin_user_pages_over_mixed_folios_equals_single_unpins()
    {
        var r = Anon(Profiles.Linux618, folios: 1, order: 2)
            .Do(new MapRegion(2, RegionKind.Anon, A + (4 * Page), 2, 0, 1))
            .Do(Pin(1, A, 6));
        Assert.Equal("[r1.f0:0+4, r2.f0:0, r2.f1:0]", r.V("pages"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 6));
        Assert.True(r.Exercised("REL-UNPIN-PAGES-BATCH"));
        r.Vmstat();
        Assert.Equal("6", r.V("nr_foll_pin_acquired"));
        Assert.Equal("6", r.V("nr_foll_pin_released"));
        r.Inspect("r2.f1");
        Assert.Equal("1", r.V("refcount"));
    }

    [Fact]
    public void REL_UNPIN_DIRTY_LOCK_dirties_large_folios_too()
    {
        var r = Anon(Profiles.Linux57, order: 2).Do(Pin(1, A, 4))
            .Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 4, MakeDirty: true));
        Assert.True(r.Exercised("REL-UNPIN-DIRTY-LOCK"));
        r.Inspect("r1.f0");
        Assert.Equal("true", r.V("dirty"));
        Assert.Contains("REL-UNPIN-DIRTY-LOCK", r.RulesOf("dirty"));
        Assert.Equal("1", r.V("refcount"));
        var clean = Anon(Profiles.Linux57).Do(Pin(1, A, 1))
            .Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, MakeDirty: false)).Inspect("r1.f0");
        Assert.Equal("false", clean.V("dirty"));
    }

    [Fact]
    public void REL_UNPIN_RANGE_DIRTY_LOCK_chunks_a_contiguous_range_by_folio()
    {
        var r = Anon(Profiles.Linux519, folios: 2, order: 1).Do(Pin(1, A, 4));
        Assert.NotNull(r.Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 0, true)));
        r.Do(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 1, 3, MakeDirty: true));
        Assert.True(r.Exercised("REL-UNPIN-RANGE-DIRTY-LOCK"));
        r.Inspect("r1.f0");
        Assert.Equal("2", r.V("refcount"));
        Assert.Equal("1", r.V("pincount"));
        Assert.Equal("true", r.V("dirty"));
        r.Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("0", r.V("pincount"));
        var old = Anon(Profiles.Linux57, folios: 2, order: 1).Do(Pin(1, A, 4));
        Assert.NotNull(old.Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 4, true)));
        var twoRegions = Anon(Profiles.Linux618).Do(new MapRegion(2, RegionKind.Anon, A + Page, 1)).Do(Pin(1, A, 2));
        Assert.NotNull(twoRegions.Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 2, true)));
    }

    [Fact]
    public void REL_MISUSE_PUT_PINNED_put_page_on_a_pin_leaves_base_plus_1023_still_pinned()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.True(r.Exercised("REL-MISUSE-PUT-PINNED"));
        r.Inspect("r1.f0");
        Assert.Equal("1024", r.V("refcount"));
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        r.Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void REL_MISUSE_UNPIN_REFFED_unpin_of_a_reference_subtracts_1024()
    {
        var r = Anon(Profiles.Linux618).Do(Get(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.True(r.Exercised("REL-MISUSE-UNPIN-REFFED"));
        r.Inspect("r1.f0");
        Assert.Equal("-1022", r.V("refcount"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void REL_EXACT_INVERSE_pin_then_unpin_restores_the_folio_and_the_balance()
    {
        var r = Anon(Profiles.Linux618, order: 3).Do(Pin(1, A, 8)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 4));
        Assert.False(r.Exercised("REL-EXACT-INVERSE"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 4, 4));
        Assert.True(r.Exercised("REL-EXACT-INVERSE"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("refcount"));
        Assert.Equal(r.State.Acquired, r.State.Released);
        Assert.NotNull(r.Invalid(new Release(1, ReleaseFn.UnpinUserPages, 0, 1)));
    }

    // ---- VMSTAT ---------------------------------------------------------------------------------------------

    [Fact]
    public void VMSTAT_ACQ_PER_ENTRY_VMSTAT_REL_PER_ENTRY_count_entries_not_folios()
    {
        var r = Anon(Profiles.Linux57, order: 3).Do(Pin(1, A, 8)).Vmstat();
        Assert.Equal("8", r.V("nr_foll_pin_acquired"));
        Assert.Contains("VMSTAT-ACQ-PER-ENTRY", r.RulesOf("nr_foll_pin_acquired"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 8));
        Assert.True(r.Exercised("VMSTAT-REL-PER-ENTRY"));
        r.Vmstat();
        Assert.Equal("8", r.V("nr_foll_pin_released"));
        Assert.Contains("VMSTAT-REL-PER-ENTRY", r.RulesOf("nr_foll_pin_released"));
    }

    [Fact]
    public void VMSTAT_GET_INVISIBLE_refs_never_move_the_pin_counters()
    {
        var r = Anon(Profiles.Linux618, order: 2).Do(Get(1, A, 4, e: EntryPoint.GetUserPagesFast));
        Assert.True(r.Exercised("VMSTAT-GET-INVISIBLE"));
        r.Do(new Release(1, ReleaseFn.PutPage, 0, 4)).Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_acquired"));
        Assert.Equal("0", r.V("nr_foll_pin_released"));
        Assert.Contains("VMSTAT-GET-INVISIBLE", r.RulesOf("nr_foll_pin_acquired"));
    }

    [Fact]
    public void VMSTAT_ADD_PIN_UNCOUNTED_folio_add_pin_is_not_acquired_but_its_unpin_is_released()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new FolioAddPin(2, 1, 0));
        Assert.True(r.Exercised("VMSTAT-ADD-PIN-UNCOUNTED"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1)).Do(new Release(2, ReleaseFn.UnpinUserPage, 0, 1)).Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));
        Assert.Equal("2", r.V("nr_foll_pin_released"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
    }

    // ---- ZERO -----------------------------------------------------------------------------------------------

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
    public void ZERO_GET_COUNTS_get_user_pages_adds_a_reference_to_the_zero_page()
    {
        var r = Zero(Profiles.Linux618).Do(Get(1, A, 2));
        Assert.True(r.Exercised("ZERO-GET-COUNTS"));
        r.Inspect("zero");
        Assert.Equal("3", r.V("refcount"));
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
    public void ZERO_LONGTERM_UNSHARE_a_read_only_longterm_pin_never_pins_the_zero_page_from_6_2()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1, Foll.LongTerm));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.True(r.Exercised("ZERO-LONGTERM-UNSHARE"));
        var old = Zero(Profiles.Linux519).Do(Pin(1, A, 1, Foll.LongTerm));
        Assert.Equal("[zero:0]", old.V("pages"));
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

    // ---- API ------------------------------------------------------------------------------------------------

    private static string Result(Profile p, Gup g)
    {
        var r = Anon(p, folios: 4).Do(new MapRegion(2, RegionKind.File, B, 2)).Do(new MapRegion(3, RegionKind.Io, C, 2)).Do(g);
        return r.V("result");
    }

    [Fact]
    public void API_GET_REFUSES_PIN_get_user_pages_with_FOLL_PIN_is_EINVAL()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux57, Get(1, A, 1, Foll.Pin)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, Foll.Pin, EntryPoint.GetUserPagesFast)));
    }

    [Fact]
    public void API_PIN_GET_EXCLUSIVE_API_PIN_RETURNS_ZERO_pin_with_FOLL_GET_is_refused_by_the_era_convention()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux519, Pin(1, A, 1, Foll.Get)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Get)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Get, EntryPoint.PinUserPagesUnlocked)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Get, EntryPoint.PinUserPagesFast)));
    }

    [Fact]
    public void API_INTERNAL_FLAGS_internal_flags_are_refused_from_6_3()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux65, Get(1, A, 1, Foll.Remote)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Tried, EntryPoint.PinUserPagesRemote)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux68, Get(1, A, 1, Foll.Touch)));
        Assert.NotNull(Anon(Profiles.Linux57).Invalid(Get(1, A, 1, Foll.Remote)));
    }

    [Fact]
    public void API_TOUCH_ACCEPTED_LEGACY_6_5_accepts_a_caller_FOLL_TOUCH()
    {
        var r = Anon(Profiles.Linux65).Do(Get(1, A, 1, Foll.Touch));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("API-TOUCH-ACCEPTED-LEGACY"));
    }

    [Fact]
    public void API_LONGTERM_NEEDS_PIN_get_with_FOLL_LONGTERM_is_refused_from_5_11()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux519, Get(1, A, 1, Foll.LongTerm)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesFast)));
    }

    [Fact]
    public void API_LONGTERM_GET_LEGACY_5_7_get_user_pages_FOLL_LONGTERM_takes_a_reference()
    {
        var r = Anon(Profiles.Linux57).Do(Get(1, A, 1, Foll.LongTerm));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("API-LONGTERM-GET-LEGACY"));
        r.Inspect("r1.f0");
        Assert.Equal("2", r.V("refcount"));
    }

    [Fact]
    public void API_UNLOCKED_LONGTERM_the_unlocked_calls_refuse_FOLL_LONGTERM_before_6_2()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux519, Pin(1, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesUnlocked)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux57, Get(1, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesUnlocked)));
        // The unlocked get does not test FOLL_PIN: it is how the unlocked pin works.
        var r = Anon(Profiles.Linux57).Do(Get(1, A, 1, Foll.Pin, EntryPoint.GetUserPagesUnlocked)).Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
    }

    [Fact]
    public void API_PAGES_REQUIRED_grabbing_without_a_pages_array_is_refused()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux62, Pin(1, A, 1, pages: false)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, pages: false)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, e: EntryPoint.GetUserPagesFast, pages: false)));
        Assert.NotNull(Anon(Profiles.Linux519).Invalid(Pin(1, A, 1, pages: false)));
    }

    [Fact]
    public void API_FAST_FLAG_MASK_fast_entry_points_refuse_flags_outside_their_mask()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux57, Get(1, A, 1, Foll.Touch, EntryPoint.GetUserPagesFast)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Dump, EntryPoint.PinUserPagesFast)));
        Assert.NotNull(Anon(Profiles.Linux618).Invalid(Pin(1, A, 1, Foll.Dump)));
    }

    [Fact]
    public void API_FAST_RANGE_OVERFLOW_a_wrapping_range_returns_0_before_6_5_and_EOVERFLOW_after()
    {
        var top = 0xFFFFFFFFFFFFF000UL;
        Assert.Equal("0", Result(Profiles.Linux519, Pin(1, top, 2, e: EntryPoint.PinUserPagesFast)));
        Assert.Equal("-EOVERFLOW", Result(Profiles.Linux65, Pin(1, top, 2, e: EntryPoint.PinUserPagesFast)));
        Assert.Equal("-EFAULT", Result(Profiles.Linux65, Pin(1, top - 0x1000, 1, e: EntryPoint.PinUserPagesFast)));
    }

    [Fact]
    public void API_FAULT_HOLE_API_VMIO_PFNMAP_holes_and_io_mappings_are_EFAULT()
    {
        Assert.Equal("-EFAULT", Result(Profiles.Linux618, Pin(1, A + (64 * Page), 1)));
        Assert.Equal("-EFAULT", Result(Profiles.Proposal2015GetVaddrPfns, Get(1, C, 1)));
        Assert.Equal("-EFAULT", Result(Profiles.Linux618, Pin(1, C, 1)));
    }

    [Fact]
    public void API_LONGTERM_FILE_WRITE_long_term_write_pins_of_files_are_refused_from_6_5()
    {
        Assert.Equal("-EFAULT", Result(Profiles.Linux65, Pin(1, B, 1, Foll.LongTerm | Foll.Write)));
        Assert.Equal("1", Result(Profiles.Linux62, Pin(1, B, 1, Foll.LongTerm | Foll.Write)));
        Assert.Equal("1", Result(Profiles.Linux65, Pin(1, B, 1, Foll.Write)));
    }

    [Fact]
    public void Fast_only_never_falls_back_so_a_hole_returns_0_and_before_6_3_errors_become_0()
    {
        Assert.Equal("0", Result(Profiles.Linux618, Get(1, A + (64 * Page), 1, e: EntryPoint.GetUserPagesFastOnly)));
        Assert.Equal("0", Result(Profiles.Linux519, Pin(1, A, 1, Foll.Dump, EntryPoint.PinUserPagesFastOnly)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, Foll.Dump, EntryPoint.GetUserPagesFastOnly)));
    }

    // ---- IOV ------------------------------------------------------------------------------------------------

    private static ModelRun Iter(Profile p, IterKind kind, IterDir dir, params IterSeg[] segs) => ModelRun.Iter(p, kind, dir, B, 9, segs);

    [Fact]
    public void IOV_USER_PIN_IOV_OFFSET0_a_user_source_is_pinned_page_by_page_from_offset0()
    {
        var r = Iter(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(A + 256, 8192)).Do(new IterExtract(10, 1, 1 << 20, 16));
        Assert.Equal("8192", r.V("result"));
        Assert.Equal("[r1.f0:0, r1.f1:0, r1.f2:0]", r.V("pages"));
        Assert.Equal("256", r.V("offset0"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.True(r.Exercised("IOV-USER-PIN"));
        r.Inspect("r1.f2");
        Assert.Equal("1025", r.V("refcount"));
        var clamped = Iter(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A + 100, 5000)).Do(new IterExtract(10, 1, 1 << 20, 1));
        Assert.Equal("3996", clamped.V("result"));
        Assert.Equal("100", clamped.V("offset0"));
        Assert.Equal("1004", clamped.V("iter_count"));
        Assert.True(clamped.Exercised("IOV-OFFSET0"));
    }

    [Fact]
    public void IOV_ALLOC_ENOMEM_a_failed_pages_array_is_ENOMEM_before_any_pin_and_consumes_nothing()
    {
        // 6.12.118 iov_iter_extract_user_pages(): want_pages_array() before pin_user_pages_fast(). Without the fault the
        // same call pins r1.f0..r1.f2 for 8192 bytes.
        var failed = Iter(Profiles.Linux612Stable, IterKind.Ubuf, IterDir.Dest, new IterSeg(A + 512, 8192))
            .Do(new IterExtract(10, 1, 1 << 20, 16, AllocFails: true));
        Assert.Equal("-ENOMEM", failed.V("result"));
        Assert.Equal("[]", failed.V("pages"));
        Assert.Equal(FieldCheck.Absent, failed.V("offset0"));
        Assert.Equal("8192", failed.V("iter_count"));
        Assert.True(failed.Exercised("IOV-ALLOC-ENOMEM"));
        Assert.Equal("1", failed.Inspect("r1.f0").V("refcount"));
        Assert.Equal("0", failed.Vmstat().V("nr_foll_pin_acquired"));
        var ok = Iter(Profiles.Linux612Stable, IterKind.Ubuf, IterDir.Dest, new IterSeg(A + 512, 8192)).Do(new IterExtract(10, 1, 1 << 20, 16));
        Assert.Equal("8192", ok.V("result"));
        Assert.Equal("3", ok.Vmstat().V("nr_foll_pin_acquired"));

        // Every kernel-backed kind allocates too (KVEC, BVEC in one segment or, v6.13+, several, XARRAY).
        foreach (var (p, kind) in new[] { (Profiles.Linux68, IterKind.Kvec), (Profiles.Linux612Stable, IterKind.Bvec), (Profiles.Linux618, IterKind.Bvec), (Profiles.Linux65, IterKind.Xarray) })
        {
            var k = Iter(p, kind, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4, AllocFails: true));
            Assert.Equal("-ENOMEM", k.V("result"));
            Assert.Equal("4096", k.V("iter_count"));
        }

        // Only the answers given before the allocation escape it: maxsize 0, DISCARD, the RFC's KVEC, and the v6.3–v6.5
        // empty leading KVEC (6.8 fixed it, and then allocates).
        Assert.Equal("0", Iter(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 0, 4, AllocFails: true)).V("result"));
        Assert.Equal("-EFAULT", Iter(Profiles.Linux618, IterKind.Discard, IterDir.Dest, new IterSeg(0, 4096)).Do(new IterExtract(10, 1, 4096, 4, AllocFails: true)).V("result"));
        Assert.Equal("-EFAULT", Iter(Profiles.Proposal2022IovExtractRfc, IterKind.Kvec, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4, AllocFails: true)).V("result"));
        Assert.Equal("0", Iter(Profiles.Linux65, IterKind.Kvec, IterDir.Source, new IterSeg(A, 0), new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4, AllocFails: true)).V("result"));
        Assert.Equal("-ENOMEM", Iter(Profiles.Linux68, IterKind.Kvec, IterDir.Source, new IterSeg(A, 0), new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4, AllocFails: true)).V("result"));
    }

    [Fact]
    public void IOV_RFC_SOURCE_GET_the_RFC_takes_references_for_a_user_source()
    {
        var r = Iter(Profiles.Proposal2022IovExtractRfc, IterKind.Ubuf, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.True(r.Exercised("IOV-RFC-SOURCE-GET"));
        r.Inspect("r1.f0");
        Assert.Equal("2", r.V("refcount"));
        r.Do(new IterRetention(1));
        Assert.Equal("0x4", r.V("extract_mode"));
        var dest = Iter(Profiles.Proposal2022IovExtractRfc, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new IterRetention(1));
        Assert.Equal("0x40000", dest.V("extract_mode"));
    }

    [Fact]
    public void IOV_KERNEL_LISTED_a_bvec_is_listed_and_nothing_is_taken()
    {
        var r = Iter(Profiles.Linux618, IterKind.Bvec, IterDir.Source, new IterSeg(B + 4096, 3 * 4096)).Do(new IterExtract(10, 1, 1 << 20, 16));
        Assert.Equal("12288", r.V("result"));
        Assert.Equal("[r2.f0:1+3]", r.V("pages"));
        Assert.True(r.Exercised("IOV-KERNEL-LISTED"));
        r.Inspect("r2.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.NotNull(r.Invalid(new Release(10, ReleaseFn.UnpinUserPage, 0, 1)));
    }

    [Fact]
    public void IOV_UNSUPPORTED_discard_and_the_RFC_kvec_are_EFAULT()
    {
        var d = Iter(Profiles.Linux618, IterKind.Discard, IterDir.Dest, new IterSeg(0, 4096)).Do(new IterExtract(10, 1, 4096, 1));
        Assert.Equal("-EFAULT", d.V("result"));
        Assert.Equal("4096", d.V("iter_count"));
        var k = Iter(Profiles.Proposal2022IovExtractRfc, IterKind.Kvec, IterDir.Dest, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 1));
        Assert.Equal("-EFAULT", k.V("result"));
        Assert.True(k.Exercised("IOV-UNSUPPORTED"));
    }

    [Fact]
    public void IOV_ONE_SEGMENT_one_extraction_stops_at_the_segment_end()
    {
        var r = Iter(Profiles.Linux618, IterKind.Iovec, IterDir.Source, new IterSeg(A, 0), new IterSeg(A, 4096), new IterSeg(A + 4096, 4096))
            .Do(new IterExtract(10, 1, 1 << 20, 16));
        Assert.Equal("4096", r.V("result"));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.True(r.Exercised("IOV-ONE-SEGMENT"));
    }

    [Fact]
    public void IOV_CLAMP_MAXSIZE_maxsize_0_returns_0_without_offset0()
    {
        var r = Iter(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 0, 4));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("[]", r.V("pages"));
        Assert.Equal(FieldCheck.Absent, r.V("offset0"));
        Assert.True(r.Exercised("IOV-CLAMP-MAXSIZE"));
    }

    [Fact]
    public void IOV_FAULT_NO_ADVANCE_a_fault_returns_EFAULT_and_keeps_the_count()
    {
        var r = Iter(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(C, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.True(r.Exercised("IOV-FAULT-NO-ADVANCE"));
    }

    [Fact]
    public void IOV_RETENTION_QUERY_will_pin_is_user_backed_and_v8_answers_FOLL_PIN_bit_0()
    {
        Assert.Equal("true", Iter(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(A, 4096)).Do(new IterRetention(1)).V("will_pin"));
        Assert.Equal("false", Iter(Profiles.Linux618, IterKind.Bvec, IterDir.Source, new IterSeg(A, 4096)).Do(new IterRetention(1)).V("will_pin"));
        Assert.Equal("0x1", Iter(Profiles.Proposal2023IovExtractV8, IterKind.Iovec, IterDir.Source, new IterSeg(A, 4096)).Do(new IterRetention(1)).V("extract_mode"));
        Assert.Equal("0x0", Iter(Profiles.Proposal2023IovExtractV8, IterKind.Kvec, IterDir.Source, new IterSeg(A, 4096)).Do(new IterRetention(1)).V("extract_mode"));
    }

    [Fact]
    public void IOV_EMPTY_SEGMENT_BUG_IOV_EMPTY_SEGMENT_SKIPPED_an_empty_leading_kvec()
    {
        var bug = Iter(Profiles.Linux65, IterKind.Kvec, IterDir.Source, new IterSeg(A, 0), new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("0", bug.V("result"));
        Assert.Equal("4096", bug.V("iter_count"));
        Assert.True(bug.Exercised("IOV-EMPTY-SEGMENT-BUG"));
        var fixedUp = Iter(Profiles.Linux68, IterKind.Kvec, IterDir.Source, new IterSeg(A, 0), new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("4096", fixedUp.V("result"));
        Assert.Equal("[r1.f0:0]", fixedUp.V("pages"));
        Assert.True(fixedUp.Exercised("IOV-EMPTY-SEGMENT-SKIPPED"));
    }

    // ---- BIO ------------------------------------------------------------------------------------------------

    private static ModelRun BioRun(Profile p, IterKind kind, params IterSeg[] segs) =>
        Anon(p, folios: 8).Do(new MapRegion(2, RegionKind.Anon, B, 1, 2)).Do(new IterInit(1, kind, IterDir.Dest, segs));

    [Fact]
    public void BIO_CLEANUP_FLAGS_the_flag_says_how_pages_are_held()
    {
        Assert.Equal("BIO_PAGE_PINNED", BioRun(Profiles.Linux618, IterKind.Ubuf, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flags"));
        Assert.Equal("BIO_CLONED", BioRun(Profiles.Linux618, IterKind.Bvec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flags"));
        Assert.Equal("BIO_CLONED|BIO_NO_PAGE_REF", BioRun(Profiles.Linux519, IterKind.Bvec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flags"));
        Assert.Equal("0", BioRun(Profiles.Linux519, IterKind.Ubuf, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flags"));
        Assert.Equal("BIO_PAGE_PINNED", BioRun(Profiles.Proposal2023IovExtractV8, IterKind.Iovec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flags"));
    }

    [Fact]
    public void BIO_FLAG_BITS_BIO_BVEC_CLONED_the_flags_as_each_eras_bi_flags_bits()
    {
        // 6.1.192 blk_types.h: BIO_NO_PAGE_REF = 0, BIO_CLONED = 1; bio_iov_bvec_set() sets both.
        var legacy = BioRun(Profiles.Linux519, IterKind.Bvec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("0x3", legacy.V("bio_flag_bits"));
        Assert.True(legacy.Exercised("BIO-BVEC-CLONED"));
        Assert.True(legacy.Exercised("BIO-FLAG-BITS"));
        Assert.Equal("0x0", BioRun(Profiles.Linux62, IterKind.Ubuf, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flag_bits"));

        // 6.12.118: BIO_PAGE_PINNED = 0, BIO_CLONED = 1; a BVEC bio is BIO_CLONED alone.
        Assert.Equal("0x2", BioRun(Profiles.Linux612Stable, IterKind.Bvec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flag_bits"));
        Assert.Equal("0x1", BioRun(Profiles.Linux612Stable, IterKind.Iovec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4)).V("bio_flag_bits"));

        // v8: BIO_PAGE_PINNED = 0, BIO_PAGE_REFFED = 1, BIO_CLONED = 2.
        var v8 = BioRun(Profiles.Proposal2023IovExtractV8, IterKind.Bvec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("BIO_CLONED", v8.V("bio_flags"));
        Assert.Equal("0x4", v8.V("bio_flag_bits"));

        // Before bio_iov_bvec_set() (5.7): BIO_NO_PAGE_REF alone.
        var old = BioRun(Profiles.Linux57, IterKind.Bvec, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("BIO_NO_PAGE_REF", old.V("bio_flags"));
        Assert.Equal("0x1", old.V("bio_flag_bits"));
        Assert.False(old.Exercised("BIO-BVEC-CLONED"));
    }

    [Fact]
    public void BIO_LOGICAL_BLOCK_TRIM_a_cut_extraction_is_trimmed_to_the_block_and_retried_from_the_reverted_bytes()
    {
        // 6.12.118, lbs 4096, max_vecs 2, 8192 bytes at A+512: extraction 1 pins r1.f0, r1.f1 (7680 bytes), trims 3584 and
        // keeps both pages (4096 bytes, one bvec: f1 follows f0 physically); extraction 2 (maxpages 1) pins r1.f1 again for
        // 3584 bytes, trims all of it, unpins it and fails with -EFAULT, which the non-empty bio swallows.
        var r = BioRun(Profiles.Linux612Stable, IterKind.Ubuf, new IterSeg(A + 512, 8192)).Do(new BioAdd(1, 1, 2, 4096));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("2", r.V("bio_pages"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.True(r.Exercised("BIO-LOGICAL-BLOCK-TRIM"));
        Assert.Equal("1025", r.Inspect("r1.f1").V("refcount"));
        r.Vmstat();
        Assert.Equal("3", r.V("nr_foll_pin_acquired"));
        Assert.Equal("1", r.V("nr_foll_pin_released"));

        // ≤ v5.19 nothing is trimmed: the second extraction adds r1.f2 for the last 512 bytes.
        var untrimmed = BioRun(Profiles.Linux519, IterKind.Ubuf, new IterSeg(A + 512, 8192)).Do(new BioAdd(1, 1, 2, 4096));
        Assert.Equal("3", untrimmed.V("bio_pages"));
        Assert.Equal("0", untrimmed.V("iter_count"));
        Assert.False(untrimmed.Exercised("BIO-LOGICAL-BLOCK-TRIM"));
    }

    [Fact]
    public void BIO_LOGICAL_BLOCK_TRIM_pages_past_the_trimmed_size_go_back_at_once_and_an_empty_bio_fails()
    {
        // 6.2 (refs, put_page as in 6.1.192): 6144 bytes at A, lbs 4096: r1.f1 is taken, trimmed away and put; the retry
        // takes it again for 2048 bytes, trims to nothing and puts it; the bio keeps r1.f0 only.
        var r = BioRun(Profiles.Linux62, IterKind.Ubuf, new IterSeg(A, 6144)).Do(new BioAdd(1, 1, 4, 4096));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("1", r.V("bio_pages"));
        Assert.Equal("2048", r.V("iter_count"));
        Assert.Equal("1", r.Inspect("r1.f1").V("refcount"));
        Assert.Equal("2", r.Inspect("r1.f0").V("refcount"));

        // 6.12.118: 2048 bytes on a 4096-byte device: the only extraction is trimmed to nothing, r1.f0 is unpinned, and
        // the empty bio returns -EFAULT with the iterator as it was.
        var empty = BioRun(Profiles.Linux612Stable, IterKind.Ubuf, new IterSeg(A, 2048)).Do(new BioAdd(1, 1, 4, 4096));
        Assert.Equal("-EFAULT", empty.V("result"));
        Assert.Equal("0", empty.V("bio_pages"));
        Assert.Equal("2048", empty.V("iter_count"));
        Assert.Equal("1", empty.Inspect("r1.f0").V("refcount"));
        empty.Vmstat();
        Assert.Equal("1", empty.V("nr_foll_pin_acquired"));
        Assert.Equal("1", empty.V("nr_foll_pin_released"));
    }

    [Fact]
    public void BIO_REFS_LEGACY_BIO_RELEASE_ONE_PER_PAGE_a_5_19_bio_holds_one_ref_per_page()
    {
        var r = BioRun(Profiles.Linux519, IterKind.Ubuf, new IterSeg(A, 8192)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("2", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.True(r.Exercised("BIO-REFS-LEGACY"));
        r.Inspect("r1.f1");
        Assert.Equal("2", r.V("refcount"));
        r.Do(new BioRelease(1, MarkDirty: false));
        Assert.True(r.Exercised("BIO-RELEASE-ONE-PER-PAGE"));
        r.Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));
    }

    [Fact]
    public void BIO_PINS_a_6_18_bio_pins_and_unpins_its_pages()
    {
        var r = BioRun(Profiles.Linux618, IterKind.Iovec, new IterSeg(A, 4096), new IterSeg(A + (2 * Page), 4096)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("2", r.V("bio_pages"));
        Assert.True(r.Exercised("BIO-PINS"));
        r.Inspect("r1.f2");
        Assert.Equal("1025", r.V("refcount"));
        r.Do(new BioRelease(1, false)).Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_acquired"));
        Assert.Equal("2", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void BIO_BVEC_NO_RETENTION_a_bvec_bio_takes_and_releases_nothing()
    {
        var r = BioRun(Profiles.Linux618, IterKind.Bvec, new IterSeg(B, 8192)).Do(new BioAdd(1, 1, 1));
        Assert.Equal("2", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.True(r.Exercised("BIO-BVEC-NO-RETENTION"));
        r.Do(new BioRelease(1, MarkDirty: true)).Inspect("r2.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("false", r.V("dirty"));
    }

    [Fact]
    public void BIO_SAME_PAGE_MERGE_data_continuing_the_last_page_gives_back_its_duplicate()
    {
        var r = BioRun(Profiles.Linux618, IterKind.Iovec, new IterSeg(A, 512), new IterSeg(A + 512, 512)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("1", r.V("bio_pages"));
        Assert.True(r.Exercised("BIO-SAME-PAGE-MERGE"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        r.Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_acquired"));
        Assert.Equal("1", r.V("nr_foll_pin_released"));
        var legacy = BioRun(Profiles.Linux519, IterKind.Iovec, new IterSeg(A, 512), new IterSeg(A + 512, 512)).Do(new BioAdd(1, 1, 4)).Inspect("r1.f0");
        Assert.Equal("2", legacy.V("refcount"));
    }

    [Fact]
    public void BIO_DIRTY_SKIPS_COMPOUND_BIO_DIRTY_COMPOUND_marking_dirty_by_era()
    {
        foreach (var (p, largeDirty) in new[] { (Profiles.Linux65, "false"), (Profiles.Linux68, "true") })
        {
            var r = BioRun(p, IterKind.Iovec, new IterSeg(A, 4096), new IterSeg(B, 4096)).Do(new BioAdd(1, 1, 4)).Do(new BioRelease(1, MarkDirty: true));
            Assert.True(r.Exercised(p.BioDirtiesCompound ? "BIO-DIRTY-COMPOUND" : "BIO-DIRTY-SKIPS-COMPOUND"), p.Id);
            Assert.Equal("true", r.Inspect("r1.f0").V("dirty"));
            Assert.Equal(largeDirty, r.Inspect("r2.f0").V("dirty"));
            Assert.Equal("1", r.V("refcount"));
        }
    }

    // ---- FV -------------------------------------------------------------------------------------------------

    private static ModelRun FvRun(Profile p) => Anon(p, folios: 4)
        .Do(new MapRegion(2, RegionKind.PfnMap, B, 2)).Do(new MapRegion(3, RegionKind.Io, B + (2 * Page), 2)).Do(new FvCreate(1, 3));

    [Fact]
    public void FV_REFS_NORMAL_FV_PUT_ONLY_IF_GOT_REF_a_5_7_vector_takes_and_gives_back_references()
    {
        var r = FvRun(Profiles.Linux57).Do(new FvGet(1, A, 2, Write: true));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("2", r.V("nr_frames"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.Equal("false", r.V("is_pfns"));
        Assert.True(r.Exercised("FV-REFS-NORMAL"));
        Assert.Equal("2", r.Inspect("r1.f1").V("refcount"));
        r.Do(new FvPut(1));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.True(r.Exercised("FV-PUT-ONLY-IF-GOT-REF"));
        Assert.Equal("1", r.Inspect("r1.f1").V("refcount"));
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_a_2015_vector_over_pfnmap_follows_pfns_without_refs()
    {
        var r = FvRun(Profiles.Proposal2015GetVaddrPfns);
        Assert.Null(r.Invalid(new FvGet(1, B, 3, false)));
        r.Do(new FvGet(1, B + Page, 3, false));
        Assert.Equal("3", r.V("result"));
        Assert.Equal("false", r.V("got_ref"));
        Assert.Equal("true", r.V("is_pfns"));
        Assert.True(r.Exercised("FV-PFNMAP-NO-REF"));
        r.Do(new FvPut(1));
        Assert.Equal("0", r.V("nr_frames"));
        var fallback = FvRun(Profiles.Linux519).Do(new FvGet(1, B, 2, false));
        Assert.Equal("2", fallback.V("result"));
        Assert.Equal("true", fallback.V("is_pfns"));
    }

    [Fact]
    public void FV_CLAMP_FV_ZERO_FRAMES_FV_EFAULT_requests_are_clamped_empty_or_fail()
    {
        var r = FvRun(Profiles.Linux57).Do(new FvGet(1, A, 5, false));
        Assert.Equal("3", r.V("result"));
        Assert.True(r.Exercised("FV-CLAMP"));
        var z = FvRun(Profiles.Linux618).Do(new FvGet(1, A, 0, false));
        Assert.Equal("0", z.V("result"));
        Assert.False(z.Has("got_ref"));
        Assert.True(z.Exercised("FV-ZERO-FRAMES"));
        var e = FvRun(Profiles.Proposal2015GetVaddrPfns).Do(new FvGet(1, C, 1, false));
        Assert.Equal("-EFAULT", e.V("result"));
        Assert.Equal("0", e.V("nr_frames"));
        Assert.True(e.Exercised("FV-EFAULT"));
    }

    [Fact]
    public void FV_PINS_a_5_19_vector_pins_long_term_for_write()
    {
        var r = FvRun(Profiles.Linux519).Do(new FvGet(1, A, 2, false));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.True(r.Exercised("FV-PINS"));
        Assert.Equal("1025", r.Inspect("r1.f0").V("refcount"));
        r.Do(new FvPut(1)).Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void FV_PFNMAP_REMOVED_from_6_1_a_pfnmap_vector_fails_with_EFAULT_and_got_ref_set()
    {
        var r = FvRun(Profiles.Linux62).Do(new FvGet(1, B, 2, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.Equal("false", r.V("is_pfns"));
        Assert.True(r.Exercised("FV-PFNMAP-REMOVED"));
    }

    // ---- NETFS ----------------------------------------------------------------------------------------------

    [Fact]
    public void NETFS_PINS_USER_NETFS_CLEANUP_ORIGINAL_user_pages_become_pinned_bvecs_and_are_unpinned()
    {
        var r = Iter(Profiles.Linux618, IterKind.Iovec, IterDir.Dest, new IterSeg(A + 100, 4096), new IterSeg(A + (4 * Page), 4096))
            .Do(new NetfsExtract(1, 1, 1 << 20));
        Assert.Equal("3", r.V("result"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.True(r.Exercised("NETFS-PINS-USER"));
        Assert.Equal("1025", r.Inspect("r1.f1").V("refcount"));
        r.Do(new NetfsFree(1));
        Assert.True(r.Exercised("NETFS-CLEANUP-ORIGINAL"));
        Assert.Equal("1", r.Inspect("r1.f1").V("refcount"));
        r.Vmstat();
        Assert.Equal("3", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void NETFS_REJECTS_KERNEL_a_bvec_is_EIO()
    {
        var r = Iter(Profiles.Linux618, IterKind.Bvec, IterDir.Dest, new IterSeg(B, 4096)).Do(new NetfsExtract(1, 1, 4096));
        Assert.Equal("-EIO", r.V("result"));
        Assert.True(r.Exercised("NETFS-REJECTS-KERNEL"));
    }

    [Fact]
    public void NETFS_PARTIAL_ON_ERROR_a_failing_second_segment_keeps_the_first()
    {
        var r = Iter(Profiles.Linux618, IterKind.Iovec, IterDir.Dest, new IterSeg(A, 8192), new IterSeg(C, 4096)).Do(new NetfsExtract(1, 1, 1 << 20));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.True(r.Exercised("NETFS-PARTIAL-ON-ERROR"));
    }

    // ---- CORE -----------------------------------------------------------------------------------------------

    [Fact]
    public void CORE_NO_COLLATERAL_a_folio_the_pin_did_not_address_is_unchanged()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 1)).Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
        Assert.True(r.Exercised("CORE-NO-COLLATERAL"));
        r.Inspect("r1.f0");
        Assert.False(r.Exercised("CORE-NO-COLLATERAL"));
    }

    [Fact]
    public void The_model_is_pure_a_step_never_changes_its_input_state()
    {
        var r = Anon(Profiles.Linux618, order: 2);
        var before = r.State.Describe();
        var after = GupModel.Step(r.State, Pin(1, A, 4)).Next;
        Assert.Equal(before, r.State.Describe());
        Assert.NotEqual(before, after.Describe());
        Assert.Equal(5, after.Folios.Single().Refcount);
        Assert.Equal(4, after.Folios.Single().Pincount);
    }

    // ---- Catalogue completeness and exercisability ----------------------------------------------------------

    /// <summary>
    /// A deterministic tour: the same hand-written sequences under every profile (commands a profile finds invalid
    /// are skipped). Every cited or exercised id must exist and apply to the profile, and every rule that applies
    /// (facets included) must be exercised by some sequence.
    /// </summary>
    [Fact]
    public void Every_rule_cited_exists_applies_and_every_applicable_rule_is_exercised_under_every_profile()
    {
        var missing = new List<string>();
        foreach (var p in Profiles.All)
        {
            var exercised = new HashSet<string>(StringComparer.Ordinal);
            foreach (var seq in TourSequences())
            {
                var state = GupModel.Init(p);
                foreach (var c in seq)
                {
                    if (GupModel.Precondition(state, c) is not null)
                    {
                        continue;
                    }

                    var o = GupModel.Step(state, c);
                    foreach (var id in o.Exercised.Concat(o.Checks.SelectMany(k => k.Rules)))
                    {
                        Assert.True(Rules.Exists(id), $"{p.Id}: unknown rule {id}");
                        Assert.True(Rules.Get(id).AppliesTo(p), $"{p.Id}: {c} cites {id}, which does not apply");
                    }

                    Assert.All(o.Checks, k => Assert.NotEmpty(k.Rules));
                    Assert.False(string.IsNullOrEmpty(o.Change));
                    _ = o.Next.Describe();
                    exercised.UnionWith(o.Exercised);
                    state = o.Next;
                }
            }

            missing.AddRange(Rules.All.Where(r => r.Applies(p) && !exercised.Contains(r.Id)).Select(r => $"{p.Id}: {r.Id}"));
        }

        Assert.True(missing.Count == 0, "not exercised: " + string.Join(", ", missing));
    }

    /// <summary>
    /// The change a trace records per step (<see cref="ModelState.DescribeChanges"/>, which only describes what changed)
    /// is exactly the difference of the two full descriptions, over the tour under every profile.
    /// </summary>
    [Fact]
    public void A_steps_described_changes_are_the_difference_of_the_full_descriptions()
    {
        foreach (var p in Profiles.All)
        {
            foreach (var seq in TourSequences())
            {
                var state = GupModel.Init(p);
                foreach (var c in seq.Where(c => !c.IsQuery))
                {
                    if (GupModel.Precondition(state, c) is not null)
                    {
                        continue;
                    }

                    var next = GupModel.Step(state, c).Next;
                    var (a, b) = (state.Describe(), next.Describe());
                    var expected = a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
                        .Select(k => (Key: k, Before: a.GetValueOrDefault(k), After: b.GetValueOrDefault(k)))
                        .Where(x => !string.Equals(x.Before, x.After, StringComparison.Ordinal))
                        .ToList();
                    Assert.Equal(expected, next.DescribeChanges(state));
                    state = next;
                }
            }
        }
    }

    private static IEnumerable<Command[]> TourSequences()
    {
        MapRegion Map(int id, RegionKind k, ulong at, int folios = 4, int order = 0, int rc = 1) => new(id, k, at, folios, order, rc);
        Command[] Core() =>
        [
            Map(1, RegionKind.Anon, A, 4), Map(2, RegionKind.Anon, B, 2, 1), Map(3, RegionKind.Anon, C, 1, 3),
            Map(4, RegionKind.File, A + (64 * Page), 2), Map(5, RegionKind.Io, B + (64 * Page), 2),
            Get(1, A, 2), Get(2, A, 1, pages: false), Get(3, A, 1, e: EntryPoint.GetUserPagesFast),
            Pin(4, A + (2 * Page), 2), Pin(5, B, 4), Pin(6, C, 8), new InspectFolio("r1.f3"), new InspectFolio("r2.f0"),
            new InspectFolio("r3.f0"), new FolioAddPin(7, 4, 0), new ReadVmstat(),
            new Release(1, ReleaseFn.PutPage, 0, 2), new Release(4, ReleaseFn.UnpinUserPage, 0, 1),
            new Release(4, ReleaseFn.PutPage, 1, 1), new Release(3, ReleaseFn.UnpinUserPage, 0, 1),
            new Release(5, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 4, true), new Release(6, ReleaseFn.UnpinUserPages, 0, 4),
            new Release(6, ReleaseFn.UnpinUserPagesDirtyLock, 4, 4, true), new Release(7, ReleaseFn.UnpinUserPage, 0, 1),
            new InspectFolio("r1.f2"), new InspectFolio("r1.f0"), new InspectFolio("r3.f0"), new ReadVmstat(),
            Pin(8, A + (3 * Page), 4), Get(9, B + (64 * Page), 1), Pin(10, A + (64 * Page), 1, Foll.LongTerm | Foll.Write),
            Get(11, A, 1, Foll.Pin), Pin(12, A, 1, Foll.Get), Pin(13, A, 1, Foll.Get, EntryPoint.PinUserPagesFast),
            Get(14, A, 1, Foll.LongTerm), Get(15, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesUnlocked),
            Pin(16, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesUnlocked), Pin(17, A, 1, pages: false),
            Get(18, A, 1, Foll.Remote), Get(19, A, 1, Foll.Touch), Get(20, A, 1, Foll.Touch, EntryPoint.GetUserPagesFast),
            Pin(21, A, 1, Foll.Dump, EntryPoint.PinUserPagesFast), Pin(22, 0xFFFFFFFFFFFFF000, 2, e: EntryPoint.PinUserPagesFast),
            Get(23, 0xFFFFFFFFFFFFF000, 2, e: EntryPoint.GetUserPagesFast), Get(24, A + (32 * Page), 1),
            Get(25, A + (65 * Page), 1, Foll.Write),
        ];
        yield return Core();
        yield return
        [
            // A second address space: a remote pin walks it and marks it (GUP-REMOTE-TARGET-MM, GUP-PIN-MARKS-MM).
            Map(1, RegionKind.Anon, A, 1, 0, 1), new MapRegion(2, RegionKind.Anon, B, 2, Mm: 1),
            new Gup(1, EntryPoint.PinUserPagesRemote, B, 2, Foll.None, Mm: 1), new InspectMm(1), new InspectMm(0),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 1, 0, 2147482625), Pin(1, A, 1), Get(2, A, 1), Get(4, A, 1, pages: false), new InspectFolio("r1.f0"),
            Map(2, RegionKind.Anon, B, 1, 1, 2147483647), Get(3, B, 2), new InspectFolio("r2.f0"),
        ];
        yield return
        [
            Map(1, RegionKind.Zero, A, 4), Pin(1, A, 1), Get(2, A + Page, 1), Pin(3, A + (2 * Page), 1, Foll.Write),
            Pin(4, A + (3 * Page), 1, Foll.LongTerm), new InspectFolio("zero"), new Release(1, ReleaseFn.UnpinUserPage, 0, 1),
            new Release(2, ReleaseFn.PutPage, 0, 1), new ReadVmstat(), Get(5, A, 1, Foll.Write),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 8), Map(2, RegionKind.Anon, B, 1, 2), Map(3, RegionKind.Zero, C, 2),
            new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 256, 8192)]), new IterExtract(1, 1, 1 << 20, 2),
            new IterExtract(2, 1, 0, 1), new IterRetention(1),
            new IterInit(2, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 0), new IterSeg(A + (4 * Page), 4096), new IterSeg(C + (8 * Page), 4096)]),
            new IterExtract(3, 2, 1 << 20, 4), new IterExtract(4, 2, 1 << 20, 4), new IterRetention(2),
            new IterInit(3, IterKind.Kvec, IterDir.Source, [new IterSeg(A, 0), new IterSeg(B, 4096)]), new IterExtract(5, 3, 4096, 4),
            new IterInit(4, IterKind.Bvec, IterDir.Source, [new IterSeg(B, 8192)]), new IterExtract(6, 4, 1 << 20, 4),
            new IterInit(5, IterKind.Discard, IterDir.Dest, [new IterSeg(0, 4096)]), new IterExtract(7, 5, 4096, 1),
            new IterInit(6, IterKind.Xarray, IterDir.Source, [new IterSeg(B, 4096)]), new IterExtract(8, 6, 4096, 1),
            new IterInit(7, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]), new IterExtract(9, 7, 4096, 1, AllocFails: true),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 8), Map(2, RegionKind.Anon, B, 1, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 512), new IterSeg(A + 512, 512), new IterSeg(B, 4096)]),
            new BioAdd(1, 1, 8), new BioRelease(1, true),
            new IterInit(2, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096)]), new BioAdd(2, 2, 1), new BioRelease(2, false),
            new IterInit(3, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + (64 * Page), 4096)]), new BioAdd(3, 3, 1),
            new IterInit(4, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + 512, 8192)]), new BioAdd(4, 4, 2, 4096),
            new InspectFolio("r1.f0"), new InspectFolio("r2.f0"),
            new IterInit(4, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + (2 * Page) + 2048, 8192)]), new BioAdd(4, 4, 2),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 4), Map(2, RegionKind.PfnMap, B, 2), Map(3, RegionKind.Io, B + (2 * Page), 2),
            new FvCreate(1, 2), new FvGet(1, A, 3, true), new FvPut(1), new FvGet(1, B, 3, false), new FvPut(1),
            new FvGet(1, A, 0, false), new FvGet(1, C, 1, false), new FvPut(1),
            Map(4, RegionKind.File, C + (64 * Page), 1), new FvCreate(2, 2), new FvGet(2, C + (64 * Page), 1, false), new ReadVmstat(),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 4), Map(2, RegionKind.Anon, B, 1, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 8192), new IterSeg(C, 4096)]), new NetfsExtract(1, 1, 1 << 20),
            new NetfsFree(1), new IterInit(2, IterKind.Bvec, IterDir.Dest, [new IterSeg(B, 4096)]), new NetfsExtract(2, 2, 4096),
            new IterInit(3, IterKind.Ubuf, IterDir.Dest, [new IterSeg(C + (64 * Page), 4096)]), new NetfsExtract(3, 3, 4096),
        ];
        yield return
        [
            // Issue 13: a walk into the adjacent mapping, a faulted zero-region page found again, long-term P2PDMA pins.
            Map(1, RegionKind.Anon, A, 2), Map(2, RegionKind.Zero, A + (2 * Page), 2), Get(1, A, 4, Foll.Write),
            Get(2, A + (2 * Page), 1), Pin(3, A, 1, Foll.LongTerm | Foll.PciP2pDma),
            Pin(4, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesUnlocked),
            Pin(5, A, 2), new UnpinArray(5, ReleaseFn.UnpinUserPages, 0, 2, Errno: 14),
            new UnpinArray(5, ReleaseFn.UnpinUserPages, 0, 2, NullPrefix: 1),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 8192)]), new BioAdd(1, 1, 2),
        ];
    }
}
