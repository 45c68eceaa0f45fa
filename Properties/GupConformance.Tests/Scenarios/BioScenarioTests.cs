using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for bios (BIO-*): how a bio holds its pages, its flags, logical-block trimming, bvec merging and
/// counting, release and dirtying. The model's scenarios drive GupModel.Step directly and assert on the checks'
/// allowed values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or written to
/// kill a mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios from
/// issue 13 also replay their commands on the reference implementation, which must agree with the model on every
/// observation. Scenarios found by running the model against real kernels have their own section. Tests whose
/// subject is the reference implementation (Fixtures/) for the same rules follow in their own section: they stay
/// with the rules they check, so each rule has one place.
/// </summary>
public sealed partial class BioScenarioTests
{
    private static ModelRun BioRun(Profile p, IterKind kind, params IterSeg[] segs) =>
        Anon(p, folios: 8).Do(new MapRegion(2, RegionKind.Anon, B, 1, 2)).Do(new IterInit(1, kind, IterDir.Dest, segs));

    // ---- The model --------------------------------------------------------------------------------------------------

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
    public void BIO_PINS_a_bio_stops_extracting_once_the_iterator_is_empty()
    {
        // bio_iov_iter_get_pages(): do { ... } while (!ret && iov_iter_count(iter) && !bio_full(bio, 0)).
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("1", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.DoesNotContain("IOV-CLAMP-MAXSIZE", r.RulesOf("result"));
        Assert.False(r.Exercised("IOV-CLAMP-MAXSIZE"));
        Assert.EndsWith("bio 1 built: 1 pages, flags BIO_PAGE_PINNED", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void BIO_PINS_a_bio_holding_max_vecs_pages_stops_without_another_extraction()
    {
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 8192)).Do(new BioAdd(1, 1, 1));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("1", r.V("bio_pages"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.DoesNotContain("IOV-FAULT-NO-ADVANCE", r.RulesOf("result"));
        Assert.False(r.Exercised("IOV-FAULT-NO-ADVANCE"));
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
    public void BIO_BVEC_NO_RETENTION_a_bvec_bio_lists_its_pages_and_the_rule_decides_their_refcount()
    {
        var r = IterC(Profiles.Linux618, IterKind.Bvec, IterDir.Dest, new IterSeg(LargeC, 8192)).Do(new BioAdd(1, 1, 1));
        Assert.Equal("2", r.V("bio_pages"));
        r.Inspect("r2.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("BIO-BVEC-NO-RETENTION", r.RulesOf("refcount"));
        Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
    }

    [Fact]
    public void BIO_BVEC_NO_RETENTION_releasing_a_bvec_bio_returns_0_and_cites_the_rule()
    {
        var r = IterC(Profiles.Linux618, IterKind.Bvec, IterDir.Dest, new IterSeg(LargeC, 4096)).Do(new BioAdd(1, 1, 1));
        r.Do(new BioRelease(1, MarkDirty: true));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("BIO-BVEC-NO-RETENTION", r.RulesOf("result"));
        Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("result"));
        Assert.True(r.Exercised("BIO-BVEC-NO-RETENTION"));
    }

    [Fact]
    public void BIO_BVEC_NO_RETENTION_a_bio_over_a_multi_segment_bvec_counts_the_pages_each_bvec_spans_and_takes_nothing()
    {
        IterSeg[] segs = [new(A + 512, 3584), new(A + (4 * Page), 4096), new(A + (6 * Page), 512)];
        var r = Bvec(Profiles.Linux618, segs).Do(new BioAdd(1, 1, 1));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("3", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        AssertReferenceAgrees("linux-6.18", BvecActions(segs, new BioAdd(1, 1, 1), new BioRelease(1, true)));
        AssertReferenceAgrees("linux-5.19", BvecActions(segs, new BioAdd(1, 1, 1), new BioRelease(1, true)));
        Assert.NotNull(Bvec(Profiles.Linux618, segs).Invalid(new IterInit(2, IterKind.Bvec, IterDir.Source, [new(A, 0)])));
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
    public void BIO_FULL_COUNTS_BVECS_contiguous_pages_share_a_bvec_so_a_two_vec_bio_takes_four_pages()
    {
        // Four order-0 folios of one Anon region are physically contiguous: the first extraction (nr_pages 2) makes one
        // bvec, the bio is not full, and the next extractions (nr_pages 1) keep growing that bvec until the buffer ends.
        Command[] contiguous =
        [
            new MapRegion(1, RegionKind.Anon, A, 4),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 16384)]),
            new BioAdd(1, 1, 2), new BioRelease(1, true),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in contiguous[..3])
        {
            r.Do(c);
        }

        Assert.Equal("0", r.V("result"));
        Assert.Equal("4", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.Contains("BIO-FULL-COUNTS-BVECS", r.RulesOf("bio_pages"));
        r.Inspect("r1.f3");
        Assert.Equal("1025", r.V("refcount"));

        // A second region is not contiguous with the first: its first page opens bvec 2, and the bio is full.
        Command[] apart =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, B, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Source, [new IterSeg(A, 8192), new IterSeg(B, 8192)]),
            new BioAdd(1, 1, 2), new BioRelease(1, false),
        ];
        var a = new ModelRun(Profiles.Linux519);
        foreach (var c in apart[..4])
        {
            a.Do(c);
        }

        Assert.Equal("3", a.V("bio_pages"));
        Assert.Equal("4096", a.V("iter_count"));
        a.Inspect("r2.f0");
        Assert.Equal("2", a.V("refcount"));
        a.Inspect("r2.f1");
        Assert.Equal("1", a.V("refcount"));

        AssertReferenceAgrees("linux-6.18", contiguous);
        AssertReferenceAgrees("linux-5.19", contiguous);
        AssertReferenceAgrees("linux-5.19", apart);
        AssertReferenceAgrees("linux-6.8", apart);
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
    public void BIO_RELEASE_ONE_PER_PAGE_releasing_an_empty_pinned_bio_cites_the_rule_and_returns_0()
    {
        // An empty UBUF gives -EFAULT and an empty bio that still carries BIO_PAGE_PINNED: its release walks no page.
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 0)).Do(new BioAdd(1, 1, 4));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("BIO_PAGE_PINNED", r.V("bio_flags"));
        r.Do(new BioRelease(1, MarkDirty: false));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("BIO-RELEASE-ONE-PER-PAGE", r.RulesOf("result"));
        Assert.True(r.Exercised("BIO-RELEASE-ONE-PER-PAGE"));
        Assert.Equal("bio 1 released", r.Last.Change);
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

    [Fact]
    public void BIO_DIRTY_SKIPS_COMPOUND_a_6_5_bio_over_small_pages_dirties_them_under_the_rule()
    {
        var r = IterC(Profiles.Linux65, IterKind.Iovec, IterDir.Dest, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        r.Do(new BioRelease(1, MarkDirty: true));
        Assert.Contains("BIO-DIRTY-SKIPS-COMPOUND", r.RulesOf("result"));
        Assert.True(r.Exercised("BIO-DIRTY-SKIPS-COMPOUND"));
        r.Inspect("r1.f0");
        Assert.Equal("true", r.V("dirty"));
    }

    [Fact]
    public void BIO_DIRTY_SKIPS_COMPOUND_a_6_5_bio_over_a_compound_page_cites_the_rule_that_skips_it()
    {
        var r = IterC(Profiles.Linux65, IterKind.Iovec, IterDir.Dest, new IterSeg(LargeC, 4096)).Do(new BioAdd(1, 1, 4));
        r.Do(new BioRelease(1, MarkDirty: true));
        Assert.Contains("BIO-DIRTY-SKIPS-COMPOUND", r.RulesOf("result"));
        Assert.True(r.Exercised("BIO-DIRTY-SKIPS-COMPOUND"));
        r.Inspect("r2.f0");
        Assert.Equal("false", r.V("dirty"));
    }

    [Fact]
    public void BIO_DIRTY_COMPOUND_is_not_cited_for_the_zero_page_of_a_bio()
    {
        // A source bio over a Zero region holds the (unpinned, v6.5+) zero page; marking dirty leaves it alone.
        var r = Zero(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 4096)])).Do(new BioAdd(1, 1, 4));
        Assert.Equal("1", r.V("bio_pages"));
        r.Do(new BioRelease(1, MarkDirty: true));
        Assert.Equal("0", r.V("result"));
        Assert.DoesNotContain("BIO-DIRTY-COMPOUND", r.RulesOf("result"));
        Assert.False(r.Exercised("BIO-DIRTY-COMPOUND"));
    }

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

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

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

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
}
