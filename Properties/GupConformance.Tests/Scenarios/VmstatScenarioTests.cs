using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for the nr_foll_pin_acquired/released counters (VMSTAT-*). The model's scenarios drive GupModel.Step
/// directly and assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios found by running the model against real
/// kernels have their own section.
/// </summary>
public sealed partial class VmstatScenarioTests
{
    // ---- The model --------------------------------------------------------------------------------------------------

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
    public void VMSTAT_ACQ_PER_ENTRY_and_VMSTAT_REL_PER_ENTRY_are_exercised_by_reading_the_counters()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        r.Vmstat();
        Assert.True(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        Assert.True(r.Exercised("VMSTAT-REL-PER-ENTRY"));
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
    public void VMSTAT_GET_INVISIBLE_put_page_of_a_reference_cites_it_and_not_the_misuse()
    {
        var r = Anon(Profiles.Linux618).Do(Get(1, A, 1)).Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.True(r.Exercised("VMSTAT-GET-INVISIBLE"));
        Assert.False(r.Exercised("REL-MISUSE-PUT-PINNED"));
        r.Vmstat();
        Assert.Contains("VMSTAT-GET-INVISIBLE", r.RulesOf("nr_foll_pin_released"));
        Assert.DoesNotContain("REL-MISUSE-PUT-PINNED", r.RulesOf("nr_foll_pin_released"));
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

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

    [Fact]
    public void VMSTAT_FAST_TRANSIENT_a_long_term_pin_of_a_read_only_file_page_counts_twice_and_holds_once()
    {
        // 6.12 kernel: map file; get_vaddr_frames(write=false): pin_user_pages_fast(FOLL_LONGTERM) pins in GUP-fast,
        // gup_must_unshare(NULL, ...) refuses the read-only file PTE, gup_put_folio() gives it back, the slow path
        // pins: acquired 2, released 1 (the model said 1 and 0).
        var r = FileRegion(Profiles.Linux612Stable, pages: 1).Do(new FvCreate(1, 3)).Do(new FvGet(1, A, 1, Write: false));
        Assert.Equal("1", r.V("result"));
        r.Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_acquired"));
        Assert.Equal("1", r.V("nr_foll_pin_released"));
        Assert.Contains("VMSTAT-FAST-TRANSIENT", r.RulesOf("nr_foll_pin_acquired"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));

        // A write-mapped file page (after a write lookup) passes GUP-fast's read-only test: no transient.
        var w = FileRegion(Profiles.Linux612Stable, pages: 1).Do(Get(1, A, 1, Foll.Write)).Do(Pin(2, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesFast));
        w.Vmstat();
        Assert.Equal("1", w.V("nr_foll_pin_acquired"));
        Assert.Equal("0", w.V("nr_foll_pin_released"));

        // 6.1.192 has neither test in gup_pte_range(): one pin, counted once.
        var old = FileRegion(Profiles.Linux61Stable, pages: 1).Do(new FvCreate(1, 3)).Do(new FvGet(1, A, 1, Write: false));
        old.Vmstat();
        Assert.Equal("1", old.V("nr_foll_pin_acquired"));
    }
}
