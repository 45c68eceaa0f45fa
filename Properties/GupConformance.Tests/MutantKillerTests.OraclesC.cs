using System.Globalization;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>Kills the surviving mutants of Oracles/Bio.cs, Netfs.cs, Iov.cs and Memory.cs (batch C).</summary>
public sealed partial class MutantKillerTests
{
    /// <summary>Where region 2 (one order-2 folio, r2.f0) is mapped by <see cref="IterC"/>.</summary>
    private const ulong LargeC = 0x20000000;

    /// <summary>An address no region covers.</summary>
    private const ulong HoleC = 0x30000000;

    /// <summary>Region 1: eight order-0 folios at A; region 2: one order-2 folio at <see cref="LargeC"/>; iterator 1 over <paramref name="segs"/>.</summary>
    private static ModelRun IterC(Profile p, IterKind kind, IterDir dir, params IterSeg[] segs) => Iter(p, kind, dir, LargeC, 2, segs);

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    // ---- Bio.cs ---------------------------------------------------------------------------------------

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

    // ---- Iov.cs ---------------------------------------------------------------------------------------

    [Fact]
    public void IOV_CLAMP_MAXSIZE_an_iterator_starts_with_the_sum_of_its_segment_lengths()
    {
        var r = Anon(Profiles.Linux618, folios: 8).Do(new IterInit(1, IterKind.Iovec, IterDir.Source, [new IterSeg(A, 100), new IterSeg(A + 4096, 4096)]));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("4196", r.V("iter_count"));
        Assert.Equal("iter 1 Iovec Source count 4196", r.Last.Change);
    }

    [Fact]
    public void IOV_CLAMP_MAXSIZE_is_cited_only_when_maxsize_is_clamped_and_IOV_ONE_SEGMENT_only_when_the_segment_clamps()
    {
        var exact = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("4096", exact.V("result"));
        Assert.DoesNotContain("IOV-CLAMP-MAXSIZE", exact.RulesOf("result"));
        Assert.DoesNotContain("IOV-ONE-SEGMENT", exact.RulesOf("result"));
        Assert.False(exact.Exercised("IOV-ONE-SEGMENT"));
        Assert.Contains("PIN-BIAS-SMALL", exact.RulesOf("result"));
        Assert.True(exact.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        Assert.EndsWith("extract iter 1 → 4096, count 4096→0 (array 10)", exact.Last.Change, StringComparison.Ordinal);

        var clamped = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 1 << 20, 4));
        Assert.Equal("4096", clamped.V("result"));
        Assert.Contains("IOV-CLAMP-MAXSIZE", clamped.RulesOf("result"));

        var kvec = IterC(Profiles.Linux618, IterKind.Kvec, IterDir.Source, new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("4096", kvec.V("result"));
        Assert.DoesNotContain("IOV-EMPTY-SEGMENT-SKIPPED", kvec.RulesOf("result"));
    }

    [Fact]
    public void IOV_ONE_SEGMENT_an_extraction_stopping_at_the_end_of_the_first_segment_cites_it()
    {
        var r = IterC(Profiles.Linux618, IterKind.Iovec, IterDir.Source, new IterSeg(A, 4096), new IterSeg(A + 4096, 4096))
            .Do(new IterExtract(10, 1, 1 << 20, 4));
        Assert.Equal("4096", r.V("result"));
        Assert.Equal("4096", r.V("iter_count"));
        Assert.Contains("IOV-ONE-SEGMENT", r.RulesOf("result"));
    }

    [Fact]
    public void IOV_ONE_SEGMENT_a_user_iterator_skipping_an_empty_segment_cites_it_not_the_kernel_segment_fix()
    {
        // IOV-EMPTY-SEGMENT-SKIPPED is the KVEC/BVEC fix (f741bd7178c9); user iovecs always skipped empty segments.
        var r = IterC(Profiles.Linux618, IterKind.Iovec, IterDir.Source, new IterSeg(A, 0), new IterSeg(A, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("4096", r.V("result"));
        Assert.Contains("IOV-ONE-SEGMENT", r.RulesOf("result"));
        Assert.DoesNotContain("IOV-EMPTY-SEGMENT-SKIPPED", r.RulesOf("result"));
    }

    [Fact]
    public void IOV_USER_PIN_a_bio_and_a_netfs_request_pinning_through_extraction_cite_it()
    {
        var bio = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new BioAdd(1, 1, 4));
        Assert.Contains("IOV-USER-PIN", bio.RulesOf("result"));
        Assert.Contains("BIO-PINS", bio.RulesOf("result"));
        Assert.True(bio.Exercised("IOV-USER-PIN"));
        bio.Inspect("r1.f0");
        Assert.Contains("IOV-USER-PIN", bio.RulesOf("refcount"));

        var netfs = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new NetfsExtract(1, 1, 4096));
        Assert.Equal("1", netfs.V("result"));
        Assert.Contains("IOV-USER-PIN", netfs.RulesOf("result"));
        netfs.Inspect("r1.f0");
        Assert.Contains("IOV-USER-PIN", netfs.RulesOf("refcount"));
    }

    [Fact]
    public void IOV_USER_PIN_a_failed_user_extraction_still_cites_the_pin_it_attempted()
    {
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Source, new IterSeg(HoleC, 4096)).Do(new IterExtract(10, 1, 4096, 4));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Contains("IOV-USER-PIN", r.RulesOf("result"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.True(r.Exercised("IOV-USER-PIN"));
    }

    // ---- Memory.cs ------------------------------------------------------------------------------------

    [Fact]
    public void CORE_NO_COLLATERAL_mapping_a_region_notes_its_range_and_creates_no_folio_state()
    {
        var r = Anon(Profiles.Linux618, folios: 2);
        Assert.Equal("mapped r1 Anon 0x10000000-0x10002000 (2 folios of order 0)", r.Last.Change);
    }

    [Fact]
    public void OVF_SIGN_CHECK_a_grab_refused_on_its_first_entry_leaves_an_empty_pages_array()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1)).Do(Pin(2, A, 1));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.Equal("[]", r.V("pages"));
        Assert.Empty(r.State.Arrays[2]);
    }

    // ---- Netfs.cs -------------------------------------------------------------------------------------

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
    public void REL_EXACT_INVERSE_netfs_free_unpins_returns_0_and_notes_the_exact_inverse()
    {
        var r = IterC(Profiles.Linux618, IterKind.Ubuf, IterDir.Dest, new IterSeg(A, 4096)).Do(new NetfsExtract(1, 1, 4096)).Do(new NetfsFree(1));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("result"));
        Assert.True(r.Exercised("REL-EXACT-INVERSE"));
        Assert.EndsWith("; netfs 1 freed", r.Last.Change, StringComparison.Ordinal);
    }
}
