using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for pin accounting on folios (PIN-*): the bias on small folios, the exact pin count of large ones, each
/// era's order-1 and 32-bit cases, folio_add_pin(). The model's scenarios drive GupModel.Step directly and assert on
/// the checks' allowed values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or
/// written to kill a mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order.
/// Tests whose subject is the reference implementation (Fixtures/) for the same rules follow in their own section:
/// they stay with the rules they check, so each rule has one place.
/// </summary>
public sealed partial class PinScenarioTests
{
    // ---- The model --------------------------------------------------------------------------------------------------

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
    public void PIN_PLACEHOLDER_PLUS_ONE_without_pin_vmstat_nothing_is_counted_or_cited()
    {
        var r = Anon(Profiles.Linux56).Do(Pin(1, A, 1));
        Assert.False(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        Assert.Equal(0, r.State.Acquired);
        r.Do(Get(2, A, 1)).Do(new Release(2, ReleaseFn.PutPage, 0, 1));
        Assert.False(r.Exercised("VMSTAT-GET-INVISIBLE"));
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
    public void PIN_EXACT_LARGE_the_account_shows_the_pin_count_and_the_counters()
    {
        var r = Anon(Profiles.Linux618, order: 2).Do(Pin(1, A, 1));
        Assert.Equal("r1.f0 refcount 1→2, pincount 0→1, pins 0→1; acquired 0→1; pin_user_pages → 1 (array 1)", r.Last.Change);
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.StartsWith("r1.f0 refcount 2→1, pincount 1→0, pins 1→0; released 0→1;", r.Last.Change, StringComparison.Ordinal);
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

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void PIN_PLACEHOLDER_PLUS_ONE_a_large_folio_under_linux_5_6_reports_neither_pincount_nor_maybe_dma_pinned()
    {
        // v5.6 has no exact pin count for any folio and no folio_maybe_dma_pinned() (CONTRACT §9).
        var last = ExecuteOnReference("linux-5.6",
            new MapRegion(1, RegionKind.Anon, Base, 1, Order: 2),
            new Gup(1, EntryPoint.PinUserPages, Base, 1, Foll.None),
            new InspectFolio("r1.f0"));
        Assert.Equal(2, last.Refcount);
        Assert.Null(last.Pincount);
        Assert.Null(last.MaybeDmaPinned);
    }

    [Fact]
    public void PIN_BIAS_SMALL_inspecting_an_order0_folio_reports_no_pincount()
    {
        // CONTRACT §9: Pincount only for exact-count folios; the model does not check an absent field, so assert it.
        var last = ExecuteOnReference("linux-6.18",
            new MapRegion(1, RegionKind.Anon, Base, 1),
            new Gup(1, EntryPoint.PinUserPages, Base, 1, Foll.None),
            new InspectFolio("r1.f0"));
        Assert.Equal(1 + Sizes.GupPinCountingBias, last.Refcount);
        Assert.Null(last.Pincount);
        Assert.Equal(true, last.MaybeDmaPinned);
    }
}
