using GupConformance.Spec;
using static GupConformance.Fixtures.Broken.Eras;

namespace GupConformance.Fixtures.Broken;

// Broken implementations for the behaviour issue 13 brought into the model's reach: each is the reference
// implementation with one decision undone, so that the new rule is seen to fail.

[Broken("gup-walk-stops-at-vma-end",
    ["GUP-WALK-NEXT-VMA", "GUP-PARTIAL-RESULT"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "The walk treats the end of the first VMA as the end of the range and returns the entries it has, though the next mapping starts right there.",
    "A walk that looks the VMA up once (vma = find_vma(mm, start)) and loops while start < vma->vm_end, instead of __get_user_pages()'s \"first iteration or cross vma bound\" lookup.")]
public sealed class GupWalkStopsAtVmaEnd(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetUserPagesWalk(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        var first = Mm.FindVma(start);
        if (first is null || nrPages <= 0)
        {
            return base.GetUserPagesWalk(start, nrPages, gupFlags, pages);
        }

        var inFirst = (long)((first.VmEnd - start) >> Sizes.PageShift);
        return base.GetUserPagesWalk(start, Math.Min(nrPages, inFirst), gupFlags, pages);
    }
}

[Broken("zero-write-fault-copies-again",
    ["ZERO-FAULTED-PAGE-KEPT", "ZERO-WRITE-FAULT", "REF-GET-PLUS-ONE", "PIN-BIAS-SMALL", "PIN-PLACEHOLDER-PLUS-ONE"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "Every write walk of a page in a never-written anonymous mapping faults in a fresh page, as if the zero page were still mapped there: the page an earlier fault installed is dropped from the page table with the references and pins it holds.",
    "A fault decision taken from the VMA (\"this mapping started out on the zero page\") instead of from the PTE (is_zero_pfn(pte_pfn(pte))).")]
public sealed class ZeroWriteFaultCopiesAgain(Profile profile) : KernelStyleImplementation(profile)
{
    protected override Page FollowPageOrFault(Vma vma, ulong addr, long gupFlags)
    {
        if (vma.Kind == RegionKind.Zero && (gupFlags & FOLL_WRITE) != 0)
        {
            return new Page(FaultInZeroPte(vma, vma.PageIndex(addr)), 0);
        }

        return base.FollowPageOrFault(vma, addr, gupFlags);
    }
}

[Broken("api-longterm-p2pdma-accepted",
    ["API-LONGTERM-P2PDMA"],
    [L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "A long-term pin that asks for P2PDMA pages is walked like any other pin instead of being refused.",
    "A port of is_valid_gup_args() without its last test (\"We want to allow the pgmap to be hot-unplugged at all times\"), or of the 6.2 check_vma_flags() without the -EOPNOTSUPP branch; also what the 2024 proposal to drop the restriction would do.")]
public sealed class ApiLongtermP2pdmaAccepted(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool IsValidGupArgs(bool havePages, ref long gupFlags, long toSet, int? locked = null)
    {
        if ((gupFlags & (FOLL_LONGTERM | FOLL_PCI_P2PDMA)) != (FOLL_LONGTERM | FOLL_PCI_P2PDMA))
        {
            return base.IsValidGupArgs(havePages, ref gupFlags, toSet, locked);
        }

        // The checks run without FOLL_PCI_P2PDMA, which is then passed on to the walk.
        var withoutP2p = gupFlags & ~FOLL_PCI_P2PDMA;
        if (!base.IsValidGupArgs(havePages, ref withoutP2p, toSet, locked))
        {
            return false;
        }

        gupFlags = withoutP2p | FOLL_PCI_P2PDMA;
        return true;
    }

    protected override long CheckVmaFlags(Vma vma, long gupFlags) => base.CheckVmaFlags(vma, gupFlags & ~FOLL_PCI_P2PDMA);
}

[Broken("iov-bvec-one-segment-after-6.13",
    ["IOV-BVEC-MULTI-SEGMENT"],
    [L615, L615x32, L618],
    3,
    "A 6.13+ BVEC extraction still stops at the end of the current bvec, though the next one starts at a page boundary.",
    "The v6.3–v6.12 iov_iter_extract_bvec_pages() (current bvec only) kept in a 6.13+ port.")]
public sealed class IovBvecOneSegmentAfter613(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long IovIterExtractBvecPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0) =>
        IovIterExtractSingleKernelSegment(i, pages, maxsize, maxpages, out offset0);
}

[Broken("unpin-errno-count-clamped",
    ["REL-UNPIN-ERRNO-COUNT"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "unpin_user_pages() given a -errno count clamps it to the entries it was given and releases them, instead of refusing it.",
    "A port whose npages is bounded by the array it holds (min(npages, nr_entries)) and so never sees the error value, where 146608bb75e6 returns at WARN_ON(IS_ERR_VALUE(npages)).")]
public sealed class UnpinErrnoCountClamped(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void UnpinUserPagesArray(IReadOnlyList<Page?> pages, ulong npages) =>
        base.UnpinUserPagesArray(pages, Math.Min(npages, (ulong)pages.Count));
}

[Broken("unpin-null-entry-ends-array",
    ["REL-UNPIN-NULL-ENTRY"],
    [L612, L615, L615x32, L618],
    3,
    "unpin_user_pages() treats a NULL entry as the end of the array: the pages after leading NULL entries stay pinned.",
    "A loop written as for (i = 0; i < npages && pages[i]; ...) instead of the 6.13 skip (if (!pages[i]) { nr = 1; continue; }).")]
public sealed class UnpinNullEntryEndsArray(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void UnpinUserPagesArray(IReadOnlyList<Page?> pages, ulong npages)
    {
        var upTo = 0;
        while ((ulong)upTo < npages && upTo < pages.Count && pages[upTo] is not null)
        {
            upTo++;
        }

        base.UnpinUserPagesArray(pages, IsErrValue(npages) ? npages : (ulong)upTo);
    }
}

[Broken("netfs-stable-error-keeps-partial",
    ["NETFS-FAIL-WHOLE-ON-ERROR"],
    [L612],
    2,
    "A 6.12.y netfs_extract_user_iter() without the stable fix: an error before any bvec returns 0, and -ENOMEM after some bvecs returns them, still pinned.",
    "The mainline 6.13–6.19 loop (\"Couldn't get user pages\", break, return npages) in a stable tree that took the fix.")]
public sealed class NetfsStableErrorKeepsPartial(Profile profile)
    : KernelStyleImplementation(profile with { NetfsFailsWholeOnError = false })
{
    // The mainline loop: only netfs reads NetfsFailsWholeOnError.
}

[Broken("bio-full-counts-pages",
    ["BIO-FULL-COUNTS-BVECS"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "The bio counts pages against max_vecs: physically contiguous pages never share a bvec, so it stops max_vecs pages in where the kernel goes on filling the same bvec.",
    "bio_full() / nr_pages taken as pages rather than bi_vcnt (the suite's own model before issue 13).")]
public sealed class BioFullCountsPages(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool BioPhysicallyContinues(Bio bio, Page page, long offset) => false;
}

[Broken("zero-longterm-pin-shares-zero-page",
    ["ZERO-LONGTERM-UNSHARE"],
    [L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A read-only long-term pin of a never-written private page pins (or, where the zero page is not pinned, hands out) the shared zero page instead of unsharing it into a fresh anonymous page.",
    "gup_must_unshare() ported from before v6.2: only anonymous pages are unshared, so the non-anon FOLL_LONGTERM clause that covers the zero page is missing.")]
public sealed class ZeroLongtermPinSharesZeroPage(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool GupMustBreakZeroPage(long gupFlags) => (gupFlags & FOLL_WRITE) != 0;
}

[Broken("bio-trim-keeps-tail",
    ["BIO-LOGICAL-BLOCK-TRIM"],
    [L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32],
    3,
    "__bio_iov_iter_get_pages() trims an extraction to the logical block size but never releases the pages the trimmed size no longer reaches: each keeps its reference or pin for good.",
    "The leak Al Viro pointed out in \"block: relax direct io memory alignment\" (2022-06-30, bio_put_pages() after ALIGN_DOWN), fixed before merge by the `while (i < nr_pages)` release.")]
public sealed class BioTrimKeepsTail(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioReleaseUnused(Bio bio, PageArray pages, long from, long to)
    {
        // The trimmed tail is forgotten: nothing is put or unpinned.
    }
}

[Broken("bio-trim-not-reverted",
    ["BIO-LOGICAL-BLOCK-TRIM"],
    [L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32],
    3,
    "The trimmed bytes are dropped from the bio but not given back to the iterator (no iov_iter_revert()): the caller believes they were submitted.",
    "An ALIGN_DOWN of the returned size without the matching iov_iter_revert(), as in early versions of the alignment patch.")]
public sealed class BioTrimNotReverted(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioTrimRevert(IovIter iter, long trim)
    {
        // The bytes stay consumed.
    }
}

[Broken("bio-bvec-not-cloned",
    ["BIO-BVEC-CLONED", "BIO-FLAG-BITS"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "bio_iov_bvec_set() points the bio at the caller's bvecs but does not flag it BIO_CLONED.",
    "The 5.7-era __bio_iov_bvec_add_pages() flags (BIO_NO_PAGE_REF alone) kept after the bvecs stopped being copied.")]
public sealed class BioBvecNotCloned(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioIovBvecSet(Bio bio, IovIter iter)
    {
        base.BioIovBvecSet(bio, iter);
        bio.BiFlags &= unchecked((ushort)~(1 << BIO_CLONED));
    }
}

[Broken("bio-flag-bits-v8-layout",
    ["BIO-FLAG-BITS"],
    [L519, L61y, Rfc, L62, L65, L68, L612, L615, L615x32, L618],
    3,
    "BIO_CLONED is kept at bit 2, where the v8 proposal's enum put it after BIO_PAGE_PINNED and BIO_PAGE_REFFED: the names are right, the bi_flags word is not.",
    "A port written against the v8 series' blk_types.h (BIO_PAGE_PINNED, BIO_PAGE_REFFED, BIO_CLONED) running a kernel without BIO_PAGE_REFFED.")]
public sealed class BioFlagBitsV8Layout(Profile profile) : KernelStyleImplementation(profile)
{
    protected override int BIO_CLONED => 2;
}

[Broken("iov-nomem-after-pin",
    ["IOV-ALLOC-ENOMEM", "GUP-PIN-MARKS-MM"],
    [Rfc, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "The user-backed extraction pins the pages first and allocates the pages array after: when the allocation fails it returns -ENOMEM with every page still pinned and no array to find them by.",
    "A helper that reuses a caller-sized scratch array for pin_user_pages_fast() and only then kvmalloc()s the array it hands back, unlike want_pages_array() before the pin.")]
public sealed class IovNoMemAfterPin(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long IovIterExtractUserPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        if (!PagesAllocFails)
        {
            return base.IovIterExtractUserPages(i, pages, maxsize, maxpages, out offset0);
        }

        var addr = FirstIovecSegment(i, ref maxsize);
        offset0 = (long)(addr % (ulong)PAGE_SIZE);
        var n = (int)Math.Min((maxsize + offset0 + PAGE_SIZE - 1) / PAGE_SIZE, maxpages);
        PinUserPagesFast(addr & PAGE_MASK, n, i.DataSource ? 0 : FOLL_WRITE, new PageArray());
        return -Errno.ENOMEM;
    }
}

[Broken("has-pinned-marks-caller",
    ["GUP-PIN-MARKS-MM", "GUP-REMOTE-TARGET-MM"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "A pin through pin_user_pages_remote() marks the caller's address space as having pinned instead of the one it pinned in.",
    "atomic_set(&current->mm->has_pinned, 1) in __get_user_pages_locked(), as v5.9's first version had it, before the fix that sets it on the target mm.")]
public sealed class HasPinnedMarksCaller(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void MmSetHasPinnedFlag(int mm, long gupFlags) => base.MmSetHasPinnedFlag(0, gupFlags);
}

[Broken("has-pinned-set-by-get",
    ["GUP-PIN-MARKS-MM"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "A FOLL_GET call marks its address space as having pinned, so fork() would copy pages nobody pinned.",
    "mm_set_has_pinned_flag() under `if (flags & (FOLL_GET | FOLL_PIN))` instead of `if (flags & FOLL_PIN)`.")]
public sealed class HasPinnedSetByGet(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void MmSetHasPinnedFlag(int mm, long gupFlags) =>
        base.MmSetHasPinnedFlag(mm, (gupFlags & FOLL_GET) != 0 ? gupFlags | FOLL_PIN : gupFlags);
}

[Broken("remote-walks-caller-mm",
    ["GUP-REMOTE-TARGET-MM", "GUP-PIN-MARKS-MM", "API-FAULT-HOLE", "GUP-PARTIAL-RESULT"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "get_user_pages_remote() and pin_user_pages_remote() walk the caller's address space, whatever mm they are given.",
    "__get_user_pages() looking VMAs up in current->mm (vma_lookup(current->mm, start)) instead of the mm argument.")]
public sealed class RemoteWalksCallerMm(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetUserPagesRemote(int mm, ulong start, long nrPages, long gupFlags, PageArray? pages, int? locked = null) =>
        base.GetUserPagesRemote(0, start, nrPages, gupFlags, pages, locked);

    protected override long PinUserPagesRemote(int mm, ulong start, long nrPages, long gupFlags, PageArray? pages, int? locked = null) =>
        base.PinUserPagesRemote(0, start, nrPages, gupFlags, pages, locked);
}

[Broken("longterm-pins-movable-in-place",
    ["GUP-MIGRATE-MOVABLE", "GUP-MIGRATE-UNPINS-ALL", "GUP-MIGRATE-BUSY-ENOMEM"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A long-term pin keeps a page of ZONE_MOVABLE or CMA pinned where it is, so memory hot-unplug and CMA allocations fail for as long as the pin lasts.",
    "__gup_longterm_locked() without check_and_migrate_movable_pages() (CONFIG_MIGRATION off: the stub returns 0), or folio_is_longterm_pinnable() answering true for ZONE_MOVABLE, as before d1e153fea2a8.")]
public sealed class LongtermPinsMovableInPlace(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long CheckAndMigrateMovablePages(PageArray pages) => 0;
}

[Broken("longterm-unpins-only-movable",
    ["GUP-MIGRATE-UNPINS-ALL", "GUP-MIGRATE-MOVABLE"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "Before migrating, a long-term pin gives back only the pins of the folios it moves; the walk that follows pins the other pages again, so each of them ends up pinned twice by one call and stays pinned after the caller's unpin.",
    "migrate_longterm_unpinnable_folios() unpinning inside collect_longterm_unpinnable_folios()'s loop (only the collected folios) instead of over every entry of the array.")]
public sealed class LongtermUnpinsOnlyMovable(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long MigrateLongtermUnpinnableFolios(List<Folio> movable, PageArray pages)
    {
        var only = new PageArray();
        foreach (var span in pages.Spans)
        {
            if (movable.Contains(span.Folio))
            {
                only.AddSpan(span);
            }
        }

        return base.MigrateLongtermUnpinnableFolios(movable, only);
    }
}

[Broken("longterm-migrates-busy-folio",
    ["GUP-MIGRATE-BUSY-ENOMEM", "GUP-MIGRATE-MOVABLE", "CORE-NO-COLLATERAL"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A long-term pin migrates a movable page although someone else still holds it: the other holder's pin or reference is left on a freed folio and the call reports success.",
    "migrate_pages() called without the expected-refcount check of __folio_migrate_mapping() (folio_ref_count() != expected_count → -EAGAIN).")]
public sealed class LongtermMigratesBusyFolio(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long MigrateLongtermUnpinnableFolios(List<Folio> movable, PageArray pages)
    {
        foreach (var span in pages.Spans)
        {
            for (long k = 0; k < span.Count; k++)
            {
                UnpinUserPage(new Page(span.Folio, span.First + k));
            }
        }

        pages.Clear();
        foreach (var folio in movable)
        {
            Mm.MigrateFolio(folio);
        }

        return -11;
    }
}

[Broken("remote-locked-not-checked",
    ["API-LOCKED-MUST-BE-SET"],
    [L65, L68, L612, L615, L615x32, L618],
    1,
    "get_user_pages_remote() and pin_user_pages_remote() take a locked pointer without checking that *locked is 1, and walk.",
    "is_valid_gup_args() without `if (WARN_ON_ONCE(*locked != 1)) return false;` (v6.3+).")]
public sealed class RemoteLockedNotChecked(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool IsValidGupArgs(bool havePages, ref long gupFlags, long toSet, int? locked = null) =>
        base.IsValidGupArgs(havePages, ref gupFlags, toSet, locked is null ? null : 1);
}

[Broken("remote-locked-longterm-walked",
    ["API-LOCKED-LONGTERM-LEGACY"],
    [L519, L61y, Rfc, L62, V8],
    1,
    "pin_user_pages_remote(FOLL_LONGTERM) with a locked pointer is walked before v6.3, as it is from v6.3 on.",
    "__get_user_pages_remote() without `if (WARN_ON_ONCE(locked)) return -EINVAL;` in its FOLL_LONGTERM branch.")]
public sealed class RemoteLockedLongtermWalked(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool RemoteLockedAllowed(long gupFlags, int? locked) => true;
}
