using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// Tests written to kill mutants of the reference implementation (Fixtures/) that survived Stryker.NET: each runs a
/// fixed, valid command sequence against the kernel-style implementation and the model (every observation, every
/// folio and the vmstat counters compared after every action), or asserts an observation the model does not check.
/// </summary>
public sealed partial class MutantKillerTests
{
    private const ulong Base = 0x10000;

    // ---- Helpers ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Checks that the sequence is valid under the profile and that the reference implementation agrees with the model
    /// on every observation of it; returns the last observation of a second, fresh run for exact assertions.
    /// </summary>
    private static Observation AssertReferenceAgreesWithModel(string profileId, params Command[] actions)
    {
        var profile = Profiles.Get(profileId);
        Assert.Null(Shrinker.Validate(profile, profile.Facets, actions));
        using (var executor = new SequenceExecutor(new KernelStyleFactory(), profile, profile.Facets, TimeSpan.FromSeconds(5)))
        {
            var result = executor.Execute(actions);
            Assert.True(result.Passed, $"{result.Status} at action {result.FailedAction} ({result.FailedCommand}): {result.Message} "
                + string.Join("; ", result.Mismatches.Select(m =>
                    $"{m.Field}: observed {m.Observed ?? "(none)"}, allowed {string.Join(" | ", m.Allowed)} [{string.Join(", ", m.Rules)}]")));
        }

        return ExecuteOnReference(profileId, actions);
    }

    /// <summary>Executes the commands on a fresh reference implementation and returns the last observation.</summary>
    private static Observation ExecuteOnReference(string profileId, params Command[] commands)
    {
        using var impl = new KernelStyleFactory().Create(Profiles.Get(profileId));
        var last = new Observation();
        foreach (var c in commands)
        {
            last = impl.Execute(c);
        }

        return last;
    }

    /// <summary>The reference implementation with the pfn list of every follow_pfn() walk recorded.</summary>
    private sealed class PfnWalkProbe(Profile profile) : KernelStyleImplementation(profile)
    {
        public List<string> Walks { get; } = [];

        protected override long FollowPfnWalk(Vma vma, ulong start, int nrFrames, FrameVector vec)
        {
            var ret = base.FollowPfnWalk(vma, start, nrFrames, vec);
            Walks.Add(PageRuns.Render(vec.Frames.ToRuns()));
            return ret;
        }
    }

    // ---- Frame vectors (FrameVector.cs) ---------------------------------------------------------------------------

    [Fact]
    public void FV_PFNMAP_NO_REF_a_pfn_walk_over_two_adjacent_pfnmap_vmas_counts_every_frame()
    {
        var last = AssertReferenceAgreesWithModel("linux-5.7",
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new MapRegion(2, RegionKind.Io, Base + 0x2000, 2),
            new FvCreate(1, 8),
            new FvGet(1, Base, 4, Write: false));
        Assert.Equal(4, last.Result);
        Assert.Equal(4, last.NrFrames);
        Assert.Equal(false, last.GotRef);
        Assert.Equal(true, last.IsPfns);
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_follow_pfn_lists_one_frame_per_page_on_into_the_adjacent_vma()
    {
        // The pfn list is not observable through the adapter (got_ref is false, so put_vaddr_frames() releases nothing),
        // but it is what a walk that wrongly takes refs (Broken fv-pfn-walk-takes-refs) would take them on: record it.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new MapRegion(2, RegionKind.PfnMap, Base + 0x2000, 1),
            new FvCreate(1, 8),
            new FvGet(1, Base, 3, Write: false),
        ];
        var profile = Profiles.Get("linux-5.7");
        Assert.Null(Shrinker.Validate(profile, profile.Facets, actions));
        using var probe = new PfnWalkProbe(profile);
        var last = new Observation();
        foreach (var c in actions)
        {
            last = probe.Execute(c);
        }

        Assert.Equal(3, last.Result);
        Assert.Equal(["[r1.f0:0, r1.f1:0, r2.f0:0]"], probe.Walks);
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_from_an_unaligned_start_the_pfn_walk_leaves_out_the_partly_covered_last_page()
    {
        // get_vaddr_frames() does not align start: "while (ret < nr_frames && start + PAGE_SIZE <= vma->vm_end)".
        var last = AssertReferenceAgreesWithModel("linux-5.7",
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new MapRegion(2, RegionKind.PfnMap, Base + 0x2000, 2),
            new FvCreate(1, 8),
            new FvGet(1, Base + 0x10, 4, Write: false));
        Assert.Equal(1, last.Result);
        Assert.Equal(1, last.NrFrames);
    }

    [Fact]
    public void FV_EFAULT_an_unaligned_start_in_the_last_pfnmap_page_collects_nothing_and_is_minus_EFAULT()
    {
        var last = AssertReferenceAgreesWithModel("linux-5.19",
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new FvCreate(1, 8),
            new FvGet(1, Base + 0x1010, 1, Write: false));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(0, last.NrFrames);
    }

    [Fact]
    public void FV_PINS_a_pin_that_returns_0_for_a_range_overflow_falls_back_to_the_pfn_branch_without_got_ref()
    {
        // pin_user_pages_fast() answers 0 for start + len overflowing before v6.5 (API-FAST-RANGE-OVERFLOW): not > 0, so
        // the media frame vector takes the follow_pfn() branch (got_ref = false, is_pfns = true) and finds no VMA.
        var last = AssertReferenceAgreesWithModel("linux-5.19",
            new FvCreate(1, 2),
            new FvGet(1, 0xFFFFFFFFFFFFF000, 2, Write: false));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(false, last.GotRef);
        Assert.Equal(true, last.IsPfns);
    }

    [Fact]
    public void FV_PFNMAP_REMOVED_a_pin_that_returns_0_for_a_range_overflow_is_minus_EFAULT()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.2",
            new FvCreate(1, 2),
            new FvGet(1, 0xFFFFFFFFFFFFF000, 2, Write: false));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(0, last.NrFrames);
    }

    // ---- GUP entry points (Gup.cs) -----------------------------------------------------------------------------------

    [Fact]
    public void API_PAGES_REQUIRED_get_user_pages_with_a_caller_FOLL_GET_and_NULL_pages_is_EINVAL()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new Gup(1, EntryPoint.GetUserPages, Base, 2, Foll.Get, WithPages: false));
        Assert.Equal(-Errno.EINVAL, last.Result);
    }

    [Fact]
    public void API_PAGES_REQUIRED_get_user_pages_remote_with_a_caller_FOLL_GET_and_NULL_pages_is_EINVAL()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new Gup(1, EntryPoint.GetUserPagesRemote, Base, 2, Foll.Get, WithPages: false));
        Assert.Equal(-Errno.EINVAL, last.Result);
    }

    [Fact]
    public void API_PAGES_REQUIRED_get_user_pages_fast_with_a_caller_FOLL_GET_and_NULL_pages_is_EINVAL()
    {
        // is_valid_gup_args() ORs to_set (FOLL_GET) into flags that already hold it: still FOLL_GET, so NULL pages is refused.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new Gup(1, EntryPoint.GetUserPagesFast, Base, 2, Foll.Get, WithPages: false));
        Assert.Equal(-Errno.EINVAL, last.Result);
    }

    [Fact]
    public void API_FAULT_HOLE_is_valid_gup_args_lets_FOLL_PCI_P2PDMA_without_FOLL_LONGTERM_through_to_the_fast_range_check()
    {
        // Only FOLL_LONGTERM | FOLL_PCI_P2PDMA together is refused (-EINVAL); P2PDMA alone reaches gup_fast_fallback(),
        // whose end > TASK_SIZE_MAX check answers -EFAULT.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new Gup(1, EntryPoint.PinUserPagesFast, 0x7FFFFFFFF000, 1, Foll.PciP2pDma));
        Assert.Equal(-Errno.EFAULT, last.Result);
    }

    [Fact]
    public void API_FAST_RANGE_OVERFLOW_get_user_pages_fast_of_a_range_ending_exactly_at_TASK_SIZE_MAX_is_walked()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new MapRegion(1, RegionKind.Anon, 0x7FFFFFFFE000, 1),
            new Gup(1, EntryPoint.GetUserPagesFast, 0x7FFFFFFFE000, 1, Foll.None));
        Assert.Equal(1, last.Result);
    }

    // ---- iov_iter (IovIter.cs) ---------------------------------------------------------------------------------------

    [Fact]
    public void IOV_FAULT_NO_ADVANCE_an_extraction_whose_pin_returns_0_for_a_range_overflow_returns_0_and_does_not_advance()
    {
        // v8 on a v6.2 tree: pin_user_pages_fast() of the last page of the address space overflows start + len → 0.
        var last = AssertReferenceAgreesWithModel("proposal-2023-iov-extract-v8",
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(0xFFFFFFFFFFFFF200, 0x200)]),
            new IterExtract(1, 1, 0x200, 1));
        Assert.Equal(0, last.Result);
        Assert.Equal(0x200, last.IterCount);
    }

    [Fact]
    public void BIO_REFS_LEGACY_iov_iter_get_pages2_whose_get_returns_0_for_a_range_overflow_leaves_the_bio_empty_with_EFAULT()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.2",
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(0xFFFFFFFFFFFFF200, 0x200)]),
            new BioAdd(1, 1, 4));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(0x200, last.IterCount);
        Assert.Equal(0, last.BioPages);
    }

    [Fact]
    public void IOV_OFFSET0_a_failed_extraction_reports_no_offset0()
    {
        // CONTRACT §5: Offset0 only when Result > 0; the model checks that it is absent, and this asserts it directly.
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(Base + 0x100, 0x100)]),
            new IterExtract(1, 1, 0x100, 1));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Null(last.Offset0);
    }

    [Fact]
    public void IOV_CLAMP_MAXSIZE_an_extraction_of_no_bytes_reports_no_offset0()
    {
        // maxsize 0 returns 0 before *offset0 is written (lib/iov_iter.c); 0 is not an error, so a `ret >= 0` test in
        // DoIterExtract would report an offset0 here, which the model's absence check catches.
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(Base + 0x100, 0x100)]),
            new IterExtract(1, 1, 0, 1));
        Assert.Equal(0, last.Result);
        Assert.Null(last.Offset0);
    }

    // ---- netfs and iov_iter_npages() (Netfs.cs, IovIter.cs) ---------------------------------------------------------

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

    // ---- Factory and inspections (KernelStyleFactory.cs, KernelStyleImplementation.cs, PinAccounting.cs) ------------

    [Fact]
    public void The_reference_factory_claims_every_named_profile_and_no_other()
    {
        var factory = new KernelStyleFactory();
        Assert.All(Profiles.All, p => Assert.NotNull(factory.ManifestFor(p)));
        Assert.Null(factory.ManifestFor(Profiles.Linux618 with { Id = "linux-6.18-unclaimed" }));
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
    public void ZERO_GET_COUNTS_inspecting_the_zero_page_reports_no_dirty_flag()
    {
        var last = ExecuteOnReference("linux-6.18",
            new MapRegion(1, RegionKind.Zero, Base, 2),
            new Gup(1, EntryPoint.GetUserPages, Base, 2, Foll.None),
            new InspectFolio("zero"));
        Assert.Equal(3, last.Refcount);
        Assert.Null(last.Dirty);
    }

    [Fact]
    public void OVF_SIGN_CHECK_pinning_a_folio_whose_refcount_is_0_fails_with_ENOMEM()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new MapRegion(1, RegionKind.Anon, Base, 1, StartRefcount: 0),
            new Gup(1, EntryPoint.PinUserPages, Base, 1, Foll.None));
        Assert.Equal(-Errno.ENOMEM, last.Result);
    }

    // ---- Bios and range release (Bio.cs, Release.cs), second pass -------------------------------------------------

    [Fact]
    public void BIO_BVEC_NO_RETENTION_a_partly_consumed_bvec_iterator_is_pointed_at_from_its_current_offset()
    {
        // bio_iov_bvec_set() starts at bv_offset + iov_offset: 0x200 of the 0x2000-byte bvec at r1 page 1 are gone,
        // so the 0x1E00 left start 0x200 into page 1 and end in page 2 (2 pages, not 3 reaching back into page 0).
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 4),
            new IterInit(1, IterKind.Bvec, IterDir.Dest, [new IterSeg(Base + 0x1000, 0x2000)]),
            new IterExtract(1, 1, 0x200, 1),
            new BioAdd(1, 1, 4));
        Assert.Equal(0, last.Result);
        Assert.Equal(2, last.BioPages);
        Assert.Equal(0, last.IterCount);
    }

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

    // ---- PageArray: the reference implementation's pages array (Mm.cs) -----------------------------------------------
    // Not kernel behaviour but the reference's own data structure, whose contract every release path and every broken
    // implementation rests on: entries kept as merged spans (a GUP over an order-18 folio is one span, not 262144
    // entries), and an out-of-range request refused loudly rather than answered with fewer entries.

    private static Folio FolioOf(string key, int order) => new(key, order, 1, null, 0);

    [Fact]
    public void PageArray_merges_consecutive_pages_of_one_folio_into_one_span_and_keeps_descending_ones_apart()
    {
        var f = FolioOf("r1.f0", 2);
        var up = new PageArray();
        up.Add(new Page(f, 0));
        up.Add(new Page(f, 1));
        var span = Assert.Single(up.Spans);
        Assert.Equal((0L, 2L), (span.First, span.Count));

        // Page 1 then page 0 are not a run: merging them would claim pages 1 and 2.
        var down = new PageArray();
        down.Add(new Page(f, 1));
        down.Add(new Page(f, 0));
        Assert.Equal([(1L, 1L), (0L, 1L)], down.Spans.Select(s => (s.First, s.Count)));
        Assert.Equal(2, down.Length);
    }

    [Fact]
    public void PageArray_stores_no_empty_span()
    {
        var f = FolioOf("r1.f0", 0);
        var a = new PageArray();
        a.AddSpan(new PageSpan(f, 0, 0));
        Assert.Empty(a.Spans);
        Assert.Equal(0, a.Length);
    }

    [Fact]
    public void PageArray_Slice_refuses_a_negative_index_a_negative_count_and_a_window_past_the_end()
    {
        var f = FolioOf("r1.f0", 1);
        var a = new PageArray();
        a.AddSpan(new PageSpan(f, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(-1, 1).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(0, -1).ToList());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Slice(1, 2).ToList());
        Assert.Equal([(1L, 1L)], a.Slice(1, 1).Select(s => (s.First, s.Count)));
    }

    [Fact]
    public void PageArray_an_empty_slice_yields_no_span()
    {
        var a = new PageArray();
        a.AddSpan(new PageSpan(FolioOf("r1.f0", 1), 0, 2));
        Assert.Empty(a.Slice(0, 0));
        Assert.Empty(a.Slice(2, 0));
    }

    // ---- The reference's own consistency check (Gup.cs) --------------------------------------------------------------

    /// <summary>A deliberately wrong walk: it fills the pages array and then reports <paramref name="result"/> anyway.</summary>
    private sealed class ErrorWithPagesHeld(Profile profile, long result) : KernelStyleImplementation(profile)
    {
        protected override long GetUserPagesWalk(ulong start, long nrPages, long gupFlags, PageArray? pages)
        {
            base.GetUserPagesWalk(start, nrPages, gupFlags, pages);
            return result;
        }
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-Errno.EFAULT)]
    public void GUP_PARTIAL_RESULT_an_entry_point_that_returns_no_pages_but_holds_some_is_reported_as_a_bug_in_the_implementation(long result)
    {
        // i ? i : ret: a walk that grabbed entries returns how many; 0 or -errno with entries held leaks them. The
        // reference refuses to hide that (the engine reports the exception as a crash of the implementation).
        using var impl = new ErrorWithPagesHeld(Profiles.Linux618, result);
        impl.Execute(new MapRegion(1, RegionKind.Anon, Base, 2));
        var e = Assert.Throws<InvalidOperationException>(() => impl.Execute(new Gup(1, EntryPoint.PinUserPages, Base, 2, Foll.None, true)));
        Assert.Contains("pin_user_pages returned", e.Message, StringComparison.Ordinal);
        Assert.Contains("with 2 pages held", e.Message, StringComparison.Ordinal);
    }
}
