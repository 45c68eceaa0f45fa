using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for FOLL_LONGTERM migration (GUP-MIGRATE-*), each replayed on the reference implementation. Issue 13
/// item 5: a FOLL_LONGTERM pin of pages in a movable area (read in 6.12.118 mm/gup.c __gup_longterm_locked(),
/// migrate_longterm_unpinnable_folios(), try_grab_folio_fast(); 6.1.192 migrate_longterm_unpinnable_pages(); v5.19/v6.0
/// check_and_migrate_movable_pages()): the slow part is pinned, unpinned whole, the movable folios migrate and the part
/// is pinned again.
/// </summary>
public sealed class LongtermMigrationScenarioTests
{
    private const ulong Page4K = 4096;

    [Theory]
    [InlineData("linux-5.19")]
    [InlineData("linux-6.1.y")]
    [InlineData("linux-6.12.118")]
    public void GUP_MIGRATE_MOVABLE_a_long_term_pin_of_two_movable_pages_counts_four_acquired_two_released_and_a_second_one_pins_in_place(string profile)
    {
        var r = new ModelRun(Profiles.Get(profile)).Do(new MapRegion(1, RegionKind.Anon, A, 2, Movable: true));
        r.Do(Pin(1, A, 2, Foll.LongTerm));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("[r1.f0:0, r1.f1:0]", r.V("pages"));
        Assert.Contains("GUP-MIGRATE-MOVABLE", r.RulesOf("result"));
        r.Vmstat();
        Assert.Equal("4", r.V("nr_foll_pin_acquired"));
        Assert.Equal("2", r.V("nr_foll_pin_released"));

        // The new folio: its mapping (1) and one pin (GUP_PIN_COUNTING_BIAS on an order-0 folio).
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));

        // The new folios are pinnable: a second long-term pin keeps them where they are.
        r.Do(Pin(2, A, 2, Foll.LongTerm)).Vmstat();
        Assert.Equal("6", r.V("nr_foll_pin_acquired"));
        Assert.Equal("2", r.V("nr_foll_pin_released"));
        r.Inspect("r1.f1");
        Assert.Equal("2049", r.V("refcount"));
        AssertReferenceAgrees(profile, new MapRegion(1, RegionKind.Anon, A, 2, Movable: true), Pin(1, A, 2, Foll.LongTerm),
            new ReadVmstat(), new InspectFolio("r1.f0"), Pin(2, A, 2, Foll.LongTerm), new ReadVmstat(), new InspectFolio("r1.f1"));
    }

    [Fact]
    public void GUP_MIGRATE_MOVABLE_a_pin_without_FOLL_LONGTERM_never_migrates()
    {
        var r = new ModelRun(Profiles.Linux612Stable).Do(new MapRegion(1, RegionKind.Anon, A, 1, Movable: true));
        r.Do(Pin(1, A, 1)).Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));
        Assert.Equal("0", r.V("nr_foll_pin_released"));

        // A later long-term pin still finds the page movable, and it is held by the first pin: -ENOMEM.
        r.Do(Pin(2, A, 1, Foll.LongTerm));
        Assert.Equal("-ENOMEM", r.V("result"));
        AssertReferenceAgrees("linux-6.12.118", new MapRegion(1, RegionKind.Anon, A, 1, Movable: true), Pin(1, A, 1), new ReadVmstat(),
            Pin(2, A, 1, Foll.LongTerm), new ReadVmstat(), new InspectFolio("r1.f0"));
    }

    [Theory]
    [InlineData("linux-6.1.y")]
    [InlineData("linux-6.12.118")]
    public void GUP_MIGRATE_UNPINS_ALL_the_slow_walk_gives_back_the_pinnable_page_too_and_GUP_fast_keeps_the_page_before_the_movable_one(string profile)
    {
        Command[] maps = [new MapRegion(1, RegionKind.Anon, A, 1), new MapRegion(2, RegionKind.Anon, A + Page4K, 1, Movable: true)];

        // pin_user_pages(): both entries are pinned, both unpinned, both pinned again.
        var slow = new ModelRun(Profiles.Get(profile)).Do(maps[0]).Do(maps[1]);
        slow.Do(Pin(1, A, 2, Foll.LongTerm));
        Assert.Equal("2", slow.V("result"));
        slow.Vmstat();
        Assert.Equal("4", slow.V("nr_foll_pin_acquired"));
        Assert.Equal("2", slow.V("nr_foll_pin_released"));
        slow.Inspect("r1.f0");
        Assert.Equal("1025", slow.V("refcount"));

        // pin_user_pages_fast(): GUP-fast takes r1.f0 and stops at the movable page without counting it; the slow path
        // pins, unpins and pins again only r2.f0.
        var fast = new ModelRun(Profiles.Get(profile)).Do(maps[0]).Do(maps[1]);
        fast.Do(Pin(1, A, 2, Foll.LongTerm, EntryPoint.PinUserPagesFast));
        Assert.Equal("2", fast.V("result"));
        Assert.Equal("[r1.f0:0, r2.f0:0]", fast.V("pages"));
        fast.Vmstat();
        Assert.Equal("3", fast.V("nr_foll_pin_acquired"));
        Assert.Equal("1", fast.V("nr_foll_pin_released"));
        AssertReferenceAgrees(profile, [.. maps, Pin(1, A, 2, Foll.LongTerm), new ReadVmstat(), new InspectFolio("r1.f0"),
            Pin(2, A, 2, Foll.LongTerm, EntryPoint.PinUserPagesFast), new ReadVmstat(), new InspectFolio("r2.f0")]);
    }

    [Theory]
    [InlineData("linux-5.19")]
    [InlineData("linux-6.12.118")]
    public void GUP_MIGRATE_BUSY_ENOMEM_a_movable_page_mapped_at_refcount_2_fails_the_long_term_pin_with_nothing_held(string profile)
    {
        Command[] maps = [new MapRegion(1, RegionKind.Anon, A, 1), new MapRegion(2, RegionKind.Anon, A + Page4K, 1, StartRefcount: 2, Movable: true)];
        var r = new ModelRun(Profiles.Get(profile)).Do(maps[0]).Do(maps[1]);
        r.Do(Pin(1, A, 2, Foll.LongTerm));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.Equal("[]", r.V("pages"));
        Assert.Contains("GUP-MIGRATE-BUSY-ENOMEM", r.RulesOf("result"));
        r.Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_acquired"));
        Assert.Equal("2", r.V("nr_foll_pin_released"));
        r.Inspect("r2.f0");
        Assert.Equal("2", r.V("refcount"));

        // Through GUP-fast the page before the movable one stays pinned and its count is returned.
        r.Do(Pin(2, A, 2, Foll.LongTerm, EntryPoint.PinUserPagesFast));
        Assert.Equal("1", r.V("result"));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        r.Vmstat();
        Assert.Equal("4", r.V("nr_foll_pin_acquired"));
        Assert.Equal("3", r.V("nr_foll_pin_released"));
        AssertReferenceAgrees(profile, [.. maps, Pin(1, A, 2, Foll.LongTerm), new ReadVmstat(), new InspectFolio("r2.f0"),
            Pin(2, A, 2, Foll.LongTerm, EntryPoint.PinUserPagesFast), new ReadVmstat(), new InspectFolio("r1.f0")]);
    }

    [Theory]
    [InlineData("linux-5.7")]
    [InlineData("proposal-2015-get-vaddr-pfns")]
    public void GUP_MIGRATE_MOVABLE_before_v5_13_a_movable_region_is_refused(string profile)
    {
        var r = new ModelRun(Profiles.Get(profile));
        Assert.NotNull(r.Invalid(new MapRegion(1, RegionKind.Anon, A, 1, Movable: true)));
    }
}
