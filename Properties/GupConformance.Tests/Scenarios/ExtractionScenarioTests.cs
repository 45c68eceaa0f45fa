using GupConformance.Oracles;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for iov_iter extraction (IOV-*): user pins, kernel iterators listed, one segment or several bvecs,
/// maxsize clamping, offset0, faults, the retention query, a failed allocation. The model's scenarios drive
/// GupModel.Step directly and assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios from issue 13 also replay their commands on
/// the reference implementation, which must agree with the model on every observation. Tests whose subject is the
/// reference implementation (Fixtures/) for the same rules follow in their own section: they stay with the rules
/// they check, so each rule has one place.
/// </summary>
public sealed partial class ExtractionScenarioTests
{
    /// <summary>An address no region covers.</summary>
    private const ulong HoleC = 0x30000000;

    // ---- The model --------------------------------------------------------------------------------------------------

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
    public void IOV_BVEC_MULTI_SEGMENT_an_extraction_walks_on_into_bvecs_that_start_a_page_and_the_array_size_counts_iov_offset()
    {
        // A tail from offset 512, a whole page, 100 bytes: 7780 bytes over three pages. want_pages_array(7780, skip 0)
        // allows DIV_ROUND_UP(7780, 4096) = 2 entries, so the first call stops after the whole page: 3584 + 4096 bytes.
        IterSeg[] segs = [new(A + 512, 3584), new(A + (4 * Page), 4096), new(A + (6 * Page), 100)];
        var r = Bvec(Profiles.Linux618, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("7680", r.V("result"));
        Assert.Equal("[r1.f0:0, r1.f4:0]", r.V("pages"));
        Assert.Equal("512", r.V("offset0"));
        Assert.Equal("100", r.V("iter_count"));
        Assert.Contains("IOV-BVEC-MULTI-SEGMENT", r.RulesOf("result"));
        r.Do(new IterExtract(2, 1, 1 << 20, 16));
        Assert.Equal("100", r.V("result"));
        Assert.Equal("[r1.f6:0]", r.V("pages"));
        Assert.Equal("0", r.V("offset0"));

        // v6.12 and before: the current bvec only.
        var old = Bvec(Profiles.Linux68, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("3584", old.V("result"));
        Assert.Equal("[r1.f0:0]", old.V("pages"));
        Assert.False(old.Exercised("IOV-BVEC-MULTI-SEGMENT"));

        AssertReferenceAgrees("linux-6.18", BvecActions(segs, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
        AssertReferenceAgrees("linux-6.8", BvecActions(segs, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
    }

    [Fact]
    public void IOV_BVEC_MULTI_SEGMENT_a_bvec_starting_mid_page_gets_one_page_fewer_than_it_spans_from_6_13()
    {
        // 2000 bytes from offset 3000: DIV_ROUND_UP(2000 + iov_offset 0, 4096) = 1 entry, and the first step is the
        // 1096 bytes left of that page. The rest (904 bytes, iov_offset 1096) comes with the next call.
        IterSeg[] segs = [new(A + 3000, 2000)];
        var r = Bvec(Profiles.Linux615, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("1096", r.V("result"));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.Equal("3000", r.V("offset0"));
        r.Do(new IterExtract(2, 1, 1 << 20, 16));
        Assert.Equal("904", r.V("result"));
        Assert.Equal("[r1.f1:0]", r.V("pages"));
        Assert.Equal("0", r.V("offset0"));
        Assert.Equal("0", r.V("iter_count"));

        var old = Bvec(Profiles.Linux68, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("2000", old.V("result"));
        Assert.Equal("[r1.f0:0, r1.f1:0]", old.V("pages"));
        AssertReferenceAgrees("linux-6.15", BvecActions(segs, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
    }

    [Fact]
    public void IOV_BVEC_MULTI_SEGMENT_pages_of_a_large_folio_across_bvecs_and_a_later_bvec_with_an_offset_ends_the_walk()
    {
        // Two pages of the order-9 folio, then its page 4: three steps, all whole pages; maxpages 3.
        IterSeg[] large = [new(B, 8192), new(B + (4 * Page), 4096)];
        var r = Bvec(Profiles.Linux618, large).Do(new IterExtract(1, 1, 1 << 20, 3));
        Assert.Equal("12288", r.V("result"));
        Assert.Equal("[r2.f0:0+2, r2.f0:4]", r.V("pages"));
        r.Inspect("r2.f0");
        Assert.Equal("1", r.V("refcount"));

        // The second bvec starts 512 bytes into its page: the walk ends before it.
        IterSeg[] offset = [new(A, 4096), new(A + (2 * Page) + 512, 1024)];
        var o = Bvec(Profiles.Linux618, offset).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("4096", o.V("result"));
        Assert.Equal("[r1.f0:0]", o.V("pages"));
        Assert.Equal("1024", o.V("iter_count"));

        // maxpages 1 stops after the first whole page too.
        var one = Bvec(Profiles.Linux618, large).Do(new IterExtract(1, 1, 1 << 20, 1));
        Assert.Equal("4096", one.V("result"));

        AssertReferenceAgrees("linux-6.18", BvecActions(large, new IterExtract(1, 1, 1 << 20, 3)));
        AssertReferenceAgrees("linux-6.18", BvecActions(offset, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
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
    public void IOV_CLAMP_MAXSIZE_describe_shows_each_iterator()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]));
        Assert.Equal("Ubuf Dest count=4096 segs=1", r.State.Describe()["iter.1"]);
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

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

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
}
