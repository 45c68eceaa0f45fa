using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for release (REL-*): put_page(), the unpin_user_page*() family, misuse of one for the other, the exact
/// inverse, -errno counts and NULL entries. The model's scenarios drive GupModel.Step directly and assert on the
/// checks' allowed values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or
/// written to kill a mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order.
/// Scenarios from issue 13 also replay their commands on the reference implementation, which must agree with the
/// model on every observation. Tests whose subject is the reference implementation (Fixtures/) for the same rules
/// follow in their own section: they stay with the rules they check, so each rule has one place.
/// </summary>
public sealed partial class ReleaseScenarioTests
{
    // ---- The model --------------------------------------------------------------------------------------------------

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
    public void REL_UNPIN_BIAS_an_unpin_leaves_the_pin_count_alone_and_drops_one_pin()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        Assert.StartsWith("r1.f0 refcount 1025→1, pins 1→0;", r.Last.Change, StringComparison.Ordinal);
        Assert.DoesNotContain("pincount", r.Last.Change, StringComparison.Ordinal);
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
    public void REL_UNPIN_PAGES_BATCH_the_release_cause_is_cited_on_the_refcount()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        r.Inspect("r1.f0");
        Assert.Contains("REL-UNPIN-PAGES-BATCH", r.RulesOf("refcount"));
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
    public void REL_UNPIN_DIRTY_LOCK_never_dirties_the_zero_page()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, MakeDirty: true));
        Assert.DoesNotContain("dirty", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void REL_UNPIN_DIRTY_LOCK_describe_and_the_account_show_the_dirtied_folio()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 2));
        r.Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, MakeDirty: true));
        Assert.StartsWith("r1.f0 refcount 1025→1, dirty false→true, pins 1→0; released 0→1;", r.Last.Change, StringComparison.Ordinal);
        var d = r.State.Describe();
        Assert.Equal("order=0 refcount=1 pincount=0 dirty=true pins=0", d["folio.r1.f0"]);
        Assert.Equal("order=0 refcount=1025 pincount=0 dirty=false pins=1", d["folio.r1.f1"]);
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
    public void REL_UNPIN_RANGE_DIRTY_LOCK_first_appeared_in_5_12()
    {
        var why = Anon(Profiles.Linux57).Do(Pin(1, A, 1)).Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 1));
        Assert.Contains("v5.12", why);
        Assert.Null(Anon(Profiles.Linux519).Do(Pin(1, A, 1)).Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 1)));
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
    public void REL_MISUSE_PUT_PINNED_put_page_of_a_pin_cites_the_misuse_not_get_invisible()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.False(r.Exercised("VMSTAT-GET-INVISIBLE"));
        r.Inspect("r1.f0");
        Assert.Contains("REL-MISUSE-PUT-PINNED", r.RulesOf("refcount"));
        r.Vmstat();
        Assert.Contains("REL-MISUSE-PUT-PINNED", r.RulesOf("nr_foll_pin_released"));
        Assert.DoesNotContain("VMSTAT-GET-INVISIBLE", r.RulesOf("nr_foll_pin_released"));
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

    [Fact]
    public void REL_EXACT_INVERSE_releasing_a_pinned_bio_gives_back_the_last_hold_on_its_folio()
    {
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        r.Do(new BioRelease(1, MarkDirty: false));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("result"));
        Assert.True(r.Exercised("REL-EXACT-INVERSE"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("refcount"));
    }

    [Fact]
    public void REL_EXACT_INVERSE_netfs_free_unpins_returns_0_and_notes_the_exact_inverse()
    {
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new NetfsExtract(1, 1, 4096)).Do(new NetfsFree(1));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("result"));
        Assert.True(r.Exercised("REL-EXACT-INVERSE"));
        Assert.EndsWith("; netfs 1 freed", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void REL_EXACT_INVERSE_an_array_counts_outstanding_entries_until_released()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.Equal("entries=1 outstanding=1", r.State.Describe()["array.1"]);
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.Equal("entries=1 outstanding=0", r.State.Describe()["array.1"]);
    }

    [Fact]
    public void REL_UNPIN_ERRNO_COUNT_a_minus_errno_count_releases_nothing_from_5_11()
    {
        // unpin_user_pages(pages, (unsigned long)-EFAULT): WARN_ON(IS_ERR_VALUE(npages)) returns at once.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), Pin(1, A, 2),
            new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 2, Errno: 14),
            new UnpinArray(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 2, Errno: 12),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in actions)
        {
            r.Do(c);
        }

        Assert.Equal("0", r.V("result"));
        Assert.Contains("REL-UNPIN-ERRNO-COUNT", r.RulesOf("result"));
        r.Inspect("r1.f1");
        Assert.Equal("1025", r.V("refcount"));
        Assert.Contains("REL-UNPIN-ERRNO-COUNT", r.RulesOf("refcount"));
        Assert.Equal("false", r.V("dirty"));
        r.Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_released"));

        // The entries are still held: a real release afterwards is valid and restores the folios.
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 2)).Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));

        // make_dirty true has no such test (the loop would run off the array); 5.7 had no test at all.
        Assert.NotNull(Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, Errno: 14, MakeDirty: true)));
        Assert.NotNull(Anon(Profiles.Linux57).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 1, Errno: 14)));
        Assert.Null(Anon(Profiles.Linux519).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 1, Errno: 14)));

        AssertReferenceAgrees("linux-6.18", actions);
        AssertReferenceAgrees("linux-5.19", actions);
    }

    [Fact]
    public void REL_UNPIN_NULL_ENTRY_leading_NULL_entries_are_stepped_over_from_6_13()
    {
        // { NULL, NULL, r1.f0, r1.f1 } with npages 4: i = 0 and 1 are skipped, then one run per folio.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, B, 1, 2), Pin(1, A, 2), Pin(2, B, 4),
            new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 2, NullPrefix: 2),
            new UnpinArray(2, ReleaseFn.UnpinUserPagesDirtyLock, 1, 3, NullPrefix: 1),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in actions)
        {
            r.Do(c);
        }

        Assert.Equal("0", r.V("result"));
        Assert.Contains("REL-UNPIN-NULL-ENTRY", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        r.Inspect("r2.f0");
        Assert.Equal("2", r.V("refcount"));
        Assert.Equal("1", r.V("pincount"));
        Assert.Equal("false", r.V("dirty"));
        r.Vmstat();
        Assert.Equal("6", r.V("nr_foll_pin_acquired"));
        Assert.Equal("5", r.V("nr_foll_pin_released"));
        Assert.NotNull(r.Invalid(new Release(1, ReleaseFn.UnpinUserPages, 0, 1)));

        // Before 6.13 every NULL is dereferenced, and the make_dirty path never skips one.
        Assert.NotNull(Anon(Profiles.Linux68).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 1, NullPrefix: 1)));
        Assert.NotNull(Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, NullPrefix: 1, MakeDirty: true)));

        AssertReferenceAgrees("linux-6.18", actions);
    }

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void REL_UNPIN_RANGE_DIRTY_LOCK_the_last_chunk_of_a_range_over_two_folios_releases_only_the_pages_left()
    {
        // 6 pages over two order-2 folios: gup_folio_range_next() gives 4 (all of f0), then min(6 - 4, 4) = 2 of f1.
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new MapRegion(1, RegionKind.Anon, Base, 2, Order: 2),
            new Gup(1, EntryPoint.PinUserPages, Base, 6, Foll.None),
            new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 6, MakeDirty: true),
            new InspectFolio("r1.f1"));
        Assert.Equal(1, last.Refcount);
        Assert.Equal(0, last.Pincount);
        Assert.Equal(true, last.Dirty);
    }
}
