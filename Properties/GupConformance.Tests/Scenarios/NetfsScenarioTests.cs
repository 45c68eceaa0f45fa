using System.Globalization;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for netfs_extract_user_iter() and its cleanup (NETFS-*). The model's scenarios drive GupModel.Step
/// directly and assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios from issue 13 also replay their commands on
/// the reference implementation, which must agree with the model on every observation. Scenarios found by running
/// the model against real kernels have their own section. Tests whose subject is the reference implementation
/// (Fixtures/) for the same rules follow in their own section: they stay with the rules they check, so each rule has
/// one place.
/// </summary>
public sealed partial class NetfsScenarioTests
{
    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    // ---- The model --------------------------------------------------------------------------------------------------

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
    public void NETFS_PINS_USER_an_empty_user_iterator_extracts_nothing_and_cites_the_rule()
    {
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 0)).Do(new NetfsExtract(1, 1, 4096));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("NETFS-PINS-USER", r.RulesOf("result"));
        Assert.True(r.Exercised("NETFS-PINS-USER"));
        Assert.Equal("netfs 1 extract → 0", r.Last.Change);
    }

    [Fact]
    public void NETFS_PINS_USER_max_pages_counts_each_page_once_so_a_page_split_by_MAX_RW_COUNT_ends_the_loop()
    {
        // iov_iter_extract_pages() clamps maxsize to MAX_RW_COUNT; from offset 2048 the first call stops mid-page and
        // the second starts on that page again, so with max_pages = iov_npages() the second call gets one page less
        // than its bytes span: it extracts 2048 bytes, npages == max_pages, and netfs returns with 2048 bytes left.
        var r = Anon(Profiles.Linux618, folios: 3, order: 18)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + 2048, Sizes.MaxRwCount + 4096)]))
            .Do(new NetfsExtract(1, 1, 1L << 40));
        Assert.Equal(N((Sizes.MaxRwCount / Sizes.PageSize) + 2), r.V("result"));
        Assert.Equal("2048", r.V("iter_count"));
        Assert.False(r.Exercised("NETFS-PARTIAL-ON-ERROR"));
        Assert.DoesNotContain("IOV-FAULT-NO-ADVANCE", r.RulesOf("result"));
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

    [Fact]
    public void NETFS_PARTIAL_ON_ERROR_is_not_cited_when_the_extraction_stops_at_len()
    {
        // netfs_extract_user_iter(): while (count && npages < max_pages): len reached, nothing failed.
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 8192)).Do(new NetfsExtract(1, 1, 4096));
        Assert.Equal("1", r.V("result"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.False(r.Exercised("NETFS-PARTIAL-ON-ERROR"));
        Assert.DoesNotContain("NETFS-PARTIAL-ON-ERROR", r.RulesOf("result"));
        Assert.DoesNotContain("IOV-CLAMP-MAXSIZE", r.RulesOf("result"));
        Assert.Contains("PIN-BIAS-SMALL", r.RulesOf("result"));
        Assert.Contains("IOV-OFFSET0", r.RulesOf("result"));
        Assert.Equal("netfs 1 extract → 1", r.Last.Change.Split("; ")[^1]);
    }

    [Fact]
    public void NETFS_FAIL_WHOLE_ON_ERROR_a_stable_tree_returns_the_first_fault_and_unpins_on_ENOMEM()
    {
        // A user buffer that starts in a hole: mainline returns 0 bvecs, the stable fix returns -EFAULT.
        Command[] hole =
        [
            new MapRegion(1, RegionKind.Anon, A, 1),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A + (8 * Page), 4096), new IterSeg(A, 4096)]),
            new NetfsExtract(1, 1, 8192),
        ];
        var stable = new ModelRun(Profiles.Linux612Stable);
        var mainline = new ModelRun(Profiles.Linux618);
        foreach (var c in hole)
        {
            stable.Do(c);
            mainline.Do(c);
        }

        Assert.Equal("-EFAULT", stable.V("result"));
        Assert.Contains("NETFS-FAIL-WHOLE-ON-ERROR", stable.RulesOf("result"));
        Assert.Equal("0", mainline.V("result"));
        Assert.Contains("NETFS-PARTIAL-ON-ERROR", mainline.RulesOf("result"));

        // r2's refcount wrapped negative: the second extraction fails its sign check with -ENOMEM after one bvec.
        Command[] nomem =
        [
            new MapRegion(1, RegionKind.Anon, A, 1), new MapRegion(2, RegionKind.Anon, A + Page, 1, 0, int.MaxValue - 1000),
            Pin(1, A + Page, 1),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 4096), new IterSeg(A + Page, 4096)]),
            new NetfsExtract(1, 1, 8192), new NetfsFree(1),
        ];
        var s2 = new ModelRun(Profiles.Linux612Stable);
        var m2 = new ModelRun(Profiles.Linux618);
        foreach (var c in nomem[..5])
        {
            s2.Do(c);
            m2.Do(c);
        }

        Assert.Equal("-ENOMEM", s2.V("result"));
        Assert.Equal("1", m2.V("result"));
        s2.Inspect("r1.f0");
        Assert.Equal("1", s2.V("refcount"));
        m2.Inspect("r1.f0");
        Assert.Equal("1025", m2.V("refcount"));
        s2.Vmstat();
        Assert.Equal("2", s2.V("nr_foll_pin_acquired"));
        Assert.Equal("1", s2.V("nr_foll_pin_released"));

        AssertReferenceAgrees("linux-6.12.118", hole);
        AssertReferenceAgrees("linux-6.12.118", nomem);
        AssertReferenceAgrees("linux-6.18", nomem);
    }

    [Fact]
    public void NETFS_CLEANUP_ORIGINAL_describe_shows_the_recorded_will_pin_answer()
    {
        // netfs records iov_iter_extract_will_pin() of the original iterator: true for UBUF, false for KVEC.
        var r = Anon(Profiles.Linux65)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]))
            .Do(new IterInit(2, IterKind.Kvec, IterDir.Source, [new IterSeg(A, 4096)]))
            .Do(new NetfsExtract(1, 1, 4096))
            .Do(new NetfsExtract(2, 2, 4096));
        var d = r.State.Describe();
        Assert.Equal("will_pin=true bvecs=1", d["netfs.1"]);
        Assert.Equal("will_pin=false bvecs=0", d["netfs.2"]);
    }

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

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

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void NETFS_PINS_USER_iov_iter_npages_counts_only_the_rest_of_a_partly_consumed_first_iovec()
    {
        // After 0x1000 of the first iovec is extracted, max_pages = 1 (rest of iovec 0) + 2 (iovec 1 straddles a page
        // boundary) = 3, and netfs builds 3 bvecs.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 16),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(Base, 0x2000), new IterSeg(Base + 0x2800, 0x1000)]),
            new IterExtract(1, 1, 0x1000, 1),
            new NetfsExtract(1, 1, 0x10000));
        Assert.Equal(3, last.Result);
        Assert.Equal(0, last.IterCount);
    }

    [Fact]
    public void NETFS_PINS_USER_iov_iter_npages_takes_each_segment_start_modulo_PAGE_SIZE()
    {
        // The second iovec lies far above TASK_SIZE_MAX: counted as one page, its extraction faults and netfs keeps 1 bvec.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 4),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(Base, 0x1000), new IterSeg(0x0008000000000000, 0x1000)]),
            new NetfsExtract(1, 1, 0x2000));
        Assert.Equal(1, last.Result);
        Assert.Equal(0x1000, last.IterCount);
    }

    [Fact]
    public void NETFS_PINS_USER_iov_iter_npages_adds_the_consumed_bytes_to_the_segment_address_for_the_in_page_offset()
    {
        // 0xC00 of a 0x1100-byte UBUF consumed: the 0x500 left start at in-page offset 0xC00 and span 2 pages → 2 bvecs.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 4),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(Base, 0x1100)]),
            new IterExtract(1, 1, 0xC00, 1),
            new NetfsExtract(1, 1, 0x1000));
        Assert.Equal(2, last.Result);
        Assert.Equal(0, last.IterCount);
    }

    [Fact]
    public void NETFS_PINS_USER_iov_iter_npages_of_a_huge_segment_is_clamped_to_INT_MAX_not_wrapped()
    {
        // A 2^51-byte UBUF spans 2^39 pages, clamped to INT_MAX; netfs extracts the 0x1000 bytes asked for.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 4),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(Base, 1L << 51)]),
            new NetfsExtract(1, 1, 0x1000));
        Assert.Equal(1, last.Result);
        Assert.Equal((1L << 51) - 0x1000, last.IterCount);
    }

    [Fact]
    public void NETFS_PINS_USER_each_later_extraction_may_take_max_pages_minus_the_pages_already_built()
    {
        // max_pages is clamped to INT_MAX by the huge second iovec; the second extraction's maxpages is
        // INT_MAX - 1, not INT_MAX + 1 (which would wrap negative and fail the pin).
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(Base, 0x1000), new IterSeg(Base + 0x1000, 1L << 44)]),
            new NetfsExtract(1, 1, 0x2000));
        Assert.Equal(2, last.Result);
    }

    [Fact]
    public void NETFS_PINS_USER_max_pages_is_the_exact_page_span_so_an_unaligned_UBUF_beyond_MAX_RW_COUNT_stops_with_bytes_left()
    {
        // max_pages = (0x800 + MAX_RW_COUNT + 0x800) / 4096 = 2^19 exactly. The first extraction (clamped to
        // MAX_RW_COUNT) ends 0x800 into its last page and already uses all 2^19 pages, so the 0x800 bytes left, which
        // start in that same page, are never extracted. Order-18 folios keep the model's walk cheap.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, 0x40000000, 3, Order: 18),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(0x40000800, Sizes.MaxRwCount + 0x800)]),
            new NetfsExtract(1, 1, Sizes.MaxRwCount + 0x800));
        Assert.Equal(1L << 19, last.Result);
        Assert.Equal(0x800, last.IterCount);
    }

    [Fact]
    public void NETFS_PINS_USER_iov_iter_npages_counts_no_page_for_an_empty_iovec_at_an_unaligned_address()
    {
        // As above, with an empty iovec at an unaligned address in front: it adds no page to max_pages, so the netfs loop
        // still stops at 2^19 bvecs with 0x800 bytes left.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, 0x40000000, 3, Order: 18),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(Base + 0x800, 0), new IterSeg(0x40000800, Sizes.MaxRwCount + 0x800)]),
            new NetfsExtract(1, 1, Sizes.MaxRwCount + 0x800));
        Assert.Equal(1L << 19, last.Result);
        Assert.Equal(0x800, last.IterCount);
    }
}
