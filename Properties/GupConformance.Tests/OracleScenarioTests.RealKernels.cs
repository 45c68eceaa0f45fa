using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>
/// Scenarios for what running the model against real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) showed the
/// model had wrong or did not have, each the shrunk counterexample of a real run, with the kernel text it rests on.
/// </summary>
public sealed partial class OracleScenarioTests
{
    /// <summary>A shared file mapping: clean pages are mapped read-only, so a write lookup write-faults them.</summary>
    private static ModelRun FileRegion(Profile p, int pages = 2) =>
        new ModelRun(p).Do(new MapRegion(1, RegionKind.File, A, pages));

    [Theory]
    [InlineData("linux-5.7")]
    [InlineData("linux-6.12.118")]
    public void FILE_WRITE_FAULT_DIRTY_a_write_lookup_dirties_a_clean_file_page_once(string profile)
    {
        // 6.12 kernel: map r2 file; get_user_pages(FOLL_WRITE) → inspect r2.f0: dirty observed true.
        var r = FileRegion(Profiles.Get(profile)).Do(Get(1, A, 1, Foll.Write));
        Assert.True(r.Exercised("FILE-WRITE-FAULT-DIRTY"));
        r.Inspect("r1.f0");
        Assert.Equal("true", r.V("dirty"));
        Assert.Contains("FILE-WRITE-FAULT-DIRTY", r.RulesOf("dirty"));
        r.Inspect("r1.f1");
        Assert.Equal("false", r.V("dirty"));

        // The PTE is writable now: a second write lookup faults nothing.
        r.Do(Get(2, A, 1, Foll.Write));
        Assert.False(r.Exercised("FILE-WRITE-FAULT-DIRTY"));
    }

    [Fact]
    public void FILE_WRITE_FAULT_DIRTY_neither_a_read_lookup_nor_a_refused_long_term_write_pin_dirties()
    {
        var r = FileRegion(Profiles.Linux612Stable).Do(Get(1, A, 1)).Do(Pin(2, A, 1, Foll.Write | Foll.LongTerm));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.True(r.Exercised("API-LONGTERM-FILE-WRITE"));
        r.Inspect("r1.f0");
        Assert.Equal("false", r.V("dirty"));
    }

    [Fact]
    public void A_fast_only_write_over_a_read_only_pte_is_not_modelled_until_a_write_fault()
    {
        var file = FileRegion(Profiles.Linux612Stable);
        var fastWrite = Get(1, A, 1, Foll.Write, EntryPoint.GetUserPagesFastOnly);
        Assert.Contains("read-only PTE", file.Invalid(fastWrite), StringComparison.Ordinal);
        Assert.Null(file.Invalid(Get(1, A, 1, Foll.None, EntryPoint.GetUserPagesFastOnly)));
        file.Do(Get(2, A, 1, Foll.Write));
        Assert.Null(file.Invalid(fastWrite));

        // 6.12 kernel: a R/O long-term pin unshares the zero page into a read-only mapped page; get_user_pages_fast_only
        // (FOLL_WRITE) then got 0 entries, where the model expected 1: GUP-fast cannot write-fault it.
        var zero = Zero(Profiles.Linux612Stable, pages: 1).Do(Pin(1, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesFast));
        Assert.True(zero.Exercised("ZERO-LONGTERM-UNSHARE"));
        Assert.NotNull(zero.Invalid(Get(2, A, 1, Foll.Write, EntryPoint.GetUserPagesFastOnly)));
        zero.Do(Get(3, A, 1, Foll.Write));
        Assert.Equal("[r1.f0:0]", zero.V("pages"));
        Assert.Null(zero.Invalid(Get(4, A, 1, Foll.Write, EntryPoint.GetUserPagesFastOnly)));
    }

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

    [Fact]
    public void NETFS_FAIL_WHOLE_ON_ERROR_an_extraction_over_a_hole_is_returned_by_the_stable_fix()
    {
        // 6.12 kernel: iov_iter_init(UBUF over a hole); netfs_extract_user_iter() → -EFAULT where the model said 0.
        var now = new ModelRun(Profiles.Linux612Stable).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 0x400, 3584)]));
        now.Do(new NetfsExtract(1, 1, 519));
        Assert.Equal("-EFAULT", now.V("result"));
        Assert.True(now.Exercised("NETFS-FAIL-WHOLE-ON-ERROR"));

        var before = new ModelRun(Profiles.Linux68).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 0x400, 3584)]));
        before.Do(new NetfsExtract(1, 1, 519));
        Assert.Equal("0", before.V("result"));
        Assert.False(before.Exercised("NETFS-FAIL-WHOLE-ON-ERROR"));
    }

    [Fact]
    public void NETFS_FAIL_WHOLE_ON_ERROR_ENOMEM_after_some_bvecs_drops_their_pins()
    {
        // An IOVEC whose second segment lies on a folio whose refcount wrapped: the second extraction's grab fails
        // the sign check (-ENOMEM), and -ENOMEM is returned even with a bvec built, its pin given back.
        var r = Anon(Profiles.Linux612Stable, order: 1)
            .Do(new MapRegion(2, RegionKind.Anon, B, 1, 1, int.MaxValue))
            .Do(Pin(1, B, 1, Foll.None, EntryPoint.PinUserPagesFast))
            .Do(new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 2048), new IterSeg(B, 2048)]))
            .Do(new NetfsExtract(1, 1, 4096));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.True(r.Exercised("NETFS-FAIL-WHOLE-ON-ERROR"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Equal("0", r.V("pincount"));
        r.Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_acquired"));
        Assert.Equal("1", r.V("nr_foll_pin_released"));
    }

    [Theory]
    [InlineData(EntryPoint.PinUserPages, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesRemote, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesUnlocked, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesFast, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesFastOnly, "0")]
    public void API_PAGES_REQUIRED_every_6_1_y_pin_entry_refuses_a_null_pages_array(EntryPoint e, string result)
    {
        // 6.1.192 mm/gup.c: pin_user_pages*() each test WARN_ON_ONCE(!pages) right after FOLL_GET; the fast-only
        // variant returns 0 ("the API rules require returning 0, rather than -errno").
        var r = Anon(Profiles.Linux61Stable).Do(Pin(1, A, 1, Foll.None, e, pages: false));
        Assert.Equal(result, r.V("result"));
        Assert.True(r.Exercised("API-PAGES-REQUIRED"));

        // In 5.19 (before the backport) the same call is a VM_BUG_ON: not a command the model admits.
        Assert.NotNull(Anon(Profiles.Linux519).Invalid(Pin(1, A, 1, Foll.None, e, pages: false)));
    }

    [Fact]
    public void FV_PINS_6_1_y_pins_frames_for_writing_whatever_the_caller_asks()
    {
        // 6.1.192 get_vaddr_frames(start, nr_frames, vec): FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM; no write argument
        // before v6.2. Over a zero-page region that is a write fault; in 6.2 a read-only long-term pin unshares.
        var r = Zero(Profiles.Linux61Stable, pages: 1).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, Write: false));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("ZERO-WRITE-FAULT"));
        Assert.False(r.Exercised("ZERO-LONGTERM-UNSHARE"));

        var six2 = Zero(Profiles.Linux62, pages: 1).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, Write: false));
        Assert.True(six2.Exercised("ZERO-LONGTERM-UNSHARE"));
    }

    [Theory]
    [InlineData("linux-6.1.y")]
    [InlineData("linux-6.12.118")]
    public void BIO_FULL_COUNTS_BVECS_contiguous_pages_fill_one_bvec_so_a_bio_holds_more_pages_than_vecs(string profile)
    {
        // 6.12 kernel: an order-3 folio, IOVEC source [folio page 4 + 0xc00, 10240 bytes), bio with max_vecs 2:
        // 4 pages in one bvec (iterator empty, 4 pins), where the model had stopped at 2 pages.
        var p = Profiles.Get(profile);
        var r = Anon(p, order: 3)
            .Do(new IterInit(1, IterKind.Iovec, IterDir.Source, [new IterSeg(A + (4 * Page) + 0xc00, 10240)]))
            .Do(new BioAdd(1, 1, 2));
        Assert.Equal("4", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.True(r.Exercised("BIO-FULL-COUNTS-BVECS"));
        r.Inspect("r1.f0");
        Assert.Equal("5", r.V("refcount")); // four refs (6.1.y) or four exact pins (6.12), one per page

        // Pages of two regions never share a bvec: one bvec each, and the bio is full after the second.
        var two = Anon(p).Do(new MapRegion(2, RegionKind.Anon, A + Page, 1))
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + 2048, 4096)]))
            .Do(new BioAdd(1, 1, 1));
        Assert.Equal("1", two.V("bio_pages"));
        Assert.Equal("2048", two.V("iter_count"));
    }

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

    [Theory]
    [InlineData("linux-6.12.118")]
    [InlineData("linux-6.1.y")]
    public void A_put_page_that_would_free_the_zero_page_is_not_modelled(string profile)
    {
        // 6.12 kernel, seed 3: put_page() on pinned zero entries (the pins took nothing) freed the shared zero page;
        // every later run in that guest saw its refcount negative (maybe_dma_pinned true).
        var r = Zero(Profiles.Get(profile), pages: 2).Do(Pin(1, A, 2)).Do(Get(2, A, 1));
        r.Inspect("zero");
        Assert.Equal("2", r.V("refcount"));

        // The reference get_user_pages() took pays for one misused put; a second would drop the page's own.
        r.Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.True(r.Exercised("REL-MISUSE-PUT-PINNED"));
        Assert.Contains("zero page", r.Invalid(new Release(1, ReleaseFn.PutPage, 1, 1)), StringComparison.Ordinal);
        Assert.Null(r.Invalid(new Release(1, ReleaseFn.UnpinUserPage, 1, 1)));

        // Where the zero page is pinned (bias), the same misuse leaves references to spare.
        var pinned = Zero(Profiles.Linux519, pages: 2).Do(Pin(1, A, 2));
        Assert.Null(pinned.Invalid(new Release(1, ReleaseFn.PutPage, 0, 2)));
    }
}
