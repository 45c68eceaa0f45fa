using GupConformance.Spec;
using static GupConformance.Fixtures.Broken.Eras;

namespace GupConformance.Fixtures.Broken;

// Coverage mutants: bugs written to prove rules that no historical bug covered (the rules the kill matrix listed as
// unproven). Each is the reference implementation with one primitive overridden, declared like the rest of the zoo
// and checked by BrokenImplementationTests and KillMatrixTests.

// ---- REF / VMSTAT ---------------------------------------------------------------------------------------------

[Broken("ref-walk-grabs-without-pages",
    ["REF-NO-PAGES-NO-REF", "GUP-PARTIAL-RESULT", "API-FAULT-HOLE", "OVF-SIGN-CHECK"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "get_user_pages() without a pages array still takes a reference per page, which nobody can ever drop.",
    "__get_user_pages_locked() implying FOLL_GET as `if (!(flags & FOLL_PIN))`, the `pages &&` test lost (and __get_user_pages()'s VM_BUG_ON compiled out).")]
public sealed class RefWalkGrabsWithoutPages(Profile profile) : KernelStyleImplementation(profile)
{
    // The grab also runs the sign check, so a walk over a wrapped refcount now stops early (-ENOMEM or a partial count).
    protected override long GetUserPagesLocked(ulong start, long nrPages, long gupFlags, PageArray? pages, int mm = 0) =>
        GetUserPagesIn(mm, start, nrPages, (gupFlags & FOLL_PIN) == 0 ? gupFlags | FOLL_GET : gupFlags, pages);
}

[Broken("vmstat-folio-add-pin-counted",
    ["VMSTAT-ADD-PIN-UNCOUNTED"],
    [L65, L68, L612, L615, L615x32, L618],
    3,
    "folio_add_pin() bumps nr_foll_pin_acquired like a FOLL_PIN grab, so the counters lose their one asymmetry.",
    "folio_add_pin() (1101fb8f89e5, v6.5) written as a one-entry try_grab_folio(), node_stat_mod_folio(NR_FOLL_PIN_ACQUIRED) included.")]
public sealed class VmstatFolioAddPinCounted(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void FolioAddPinPrimitive(Folio folio)
    {
        base.FolioAddPinPrimitive(folio);

        // The zero page keeps its early return; every other folio is counted as a new acquisition.
        if (!folio.IsZeroPfn)
        {
            NodeStatModFollPinAcquired(folio, 1);
        }
    }
}

// ---- API ------------------------------------------------------------------------------------------------------

[Broken("api-touch-refused-in-6.5",
    ["API-TOUCH-ACCEPTED-LEGACY"],
    [L65],
    1,
    "A 6.5 port refuses a caller-passed FOLL_TOUCH, which only the 6.8 internal-flags list does.",
    "is_valid_gup_args() of v6.3–v6.5 given the v6.8 INTERNAL_GUP_FLAGS (FOLL_TOUCH folded in) instead of its explicit list.")]
public sealed class ApiTouchRefusedIn65(Profile profile) : KernelStyleImplementation(profile)
{
    // Every result of a call that FOLL_TOUCH reached the walk with cites the 6.3–6.5 acceptance, an error result
    // too, so the minimal counterexample is one call with FOLL_TOUCH, even into a hole.
    protected override long InternalGupFlags() => base.InternalGupFlags() | FOLL_TOUCH;
}

[Broken("api-get-accepts-longterm",
    ["API-LONGTERM-NEEDS-PIN"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "get_user_pages*() accept FOLL_LONGTERM and take ordinary references for a long-term user.",
    "A v5.11+ port without 447f3e45c18a (is_valid_gup_flags()) / step 4 of is_valid_gup_args() (v6.3+).")]
public sealed class ApiGetAcceptsLongterm(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool IsValidGupFlagsLegacy(long gupFlags) => base.IsValidGupFlagsLegacy(gupFlags & ~FOLL_LONGTERM);

    protected override bool IsValidGupArgs(bool havePages, ref long gupFlags, long toSet, int? locked = null)
    {
        if ((gupFlags & FOLL_LONGTERM) == 0 || ((gupFlags | toSet) & FOLL_PIN) != 0)
        {
            return base.IsValidGupArgs(havePages, ref gupFlags, toSet, locked);
        }

        // The checks run on the flags without FOLL_LONGTERM, which is then passed on to the walk.
        var withoutLongterm = gupFlags & ~FOLL_LONGTERM;
        if (!base.IsValidGupArgs(havePages, ref withoutLongterm, toSet, locked))
        {
            return false;
        }

        gupFlags = withoutLongterm | FOLL_LONGTERM;
        return true;
    }
}

[Broken("api-longterm-get-refused-in-5.7",
    ["API-LONGTERM-GET-LEGACY"],
    [L56, L57],
    1,
    "A 5.6/5.7 port refuses get_user_pages(FOLL_LONGTERM) with -EINVAL, which was allowed (taking references) until v5.11.",
    "447f3e45c18a \"mm/gup: don't permit users to call get_user_pages with FOLL_LONGTERM\" (v5.11) backported into a 5.7 port.")]
public sealed class ApiLongtermGetRefusedIn57(Profile profile) : KernelStyleImplementation(profile)
{
    // As for api-touch-refused-in-6.5: any result of an admitted long-term get cites API-LONGTERM-GET-LEGACY.
    protected override bool IsValidGupFlagsLegacy(long gupFlags) =>
        base.IsValidGupFlagsLegacy(gupFlags) && (gupFlags & FOLL_LONGTERM) == 0;
}

[Broken("api-unlocked-accepts-longterm",
    ["API-UNLOCKED-LONGTERM"],
    [L56, L57, L519, L61y, Rfc],
    1,
    "get_user_pages_unlocked() (and pin_user_pages_unlocked() through it) accept FOLL_LONGTERM before v6.2.",
    "get_user_pages_unlocked() v5.7–v6.1 without its \"FIXME: FOLL_LONGTERM is incompatible with FAULT_FLAG_ALLOW_RETRY\" guard.")]
public sealed class ApiUnlockedAcceptsLongterm(Profile profile) : KernelStyleImplementation(profile)
{
    // From v6.2 the guard is gone in the kernel too (__gup_longterm_locked() decides); before, it is the only test.
    protected override long GetUserPagesUnlocked(ulong start, long nrPages, long gupFlags, PageArray? pages) =>
        Profile.Validation is ValidationScheme.Legacy62 or ValidationScheme.ValidGupArgs63 or ValidationScheme.ValidGupArgs68
            ? base.GetUserPagesUnlocked(start, nrPages, gupFlags, pages)
            : GetUserPagesLocked(start, nrPages, gupFlags | FOLL_TOUCH, pages);
}

[Broken("api-fast-accepts-touch",
    ["API-FAST-FLAG-MASK", "GUP-PIN-MARKS-MM"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65],
    1,
    "The fast entry points accept FOLL_TOUCH, which is outside their flag mask (WARN, -EINVAL); walked, a pin marks the mm (MMF_HAS_PINNED) that the refusal leaves clear.",
    "internal_get_user_pages_fast() / gup_fast_fallback() with FOLL_TOUCH added to the accepted mask; from v6.8 is_valid_gup_args() refuses it first.")]
public sealed class ApiFastAcceptsTouch(Profile profile) : KernelStyleImplementation(profile)
{
    // FOLL_TOUCH changes nothing the walk does, so accepting it is dropping it before the mask check.
    protected override long GupFastFallback(ulong start, long nrPages, long gupFlags, PageArray? pages) =>
        base.GupFastFallback(start, nrPages, gupFlags & ~FOLL_TOUCH, pages);
}

[Broken("api-fast-overflow-eoverflow-before-6.5",
    ["API-FAST-RANGE-OVERFLOW"],
    [L56, L57, L519, L61y, Rfc, L62, V8],
    1,
    "A fast entry point returns -EOVERFLOW for a wrapping range in an era that returns 0.",
    "gup_fast_fallback()'s v6.5 `return -EOVERFLOW` on check_add_overflow() backported into a ≤ v6.4 internal_get_user_pages_fast().")]
public sealed class ApiFastOverflowEoverflowBefore65(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GupFastFallback(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        var ret = base.GupFastFallback(start, nrPages, gupFlags, pages);
        var end = (UInt128)(start & PAGE_MASK) + ((UInt128)(ulong)nrPages << Sizes.PageShift);

        // Only the overflow branch returns 0 here before v6.5 (the flag mask, checked first, returns -EINVAL).
        return end > ulong.MaxValue && ret == 0 ? -Errno.EOVERFLOW : ret;
    }
}

[Broken("api-vma-check-misses-io-pfnmap",
    ["API-VMIO-PFNMAP", "CORE-NO-COLLATERAL"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "check_vma_flags() lets VM_IO | VM_PFNMAP mappings through, so GUP grabs pages of pfn-mapped memory.",
    "check_vma_flags() without its `if (vm_flags & (VM_IO | VM_PFNMAP)) return -EFAULT;` test.")]
public sealed class ApiVmaCheckMissesIoPfnmap(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long CheckVmaFlags(Vma vma, long gupFlags) =>
        (vma.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0 ? 0 : base.CheckVmaFlags(vma, gupFlags);
}

[Broken("api-longterm-file-write-allowed",
    ["API-LONGTERM-FILE-WRITE", "CORE-NO-COLLATERAL"],
    [L65, L68, L612, L615, L615x32, L618],
    2,
    "Long-term write pins of shared file mappings are allowed from v6.5 on.",
    "A 6.5+ port of check_vma_flags() without the writable_file_mapping_allowed() branch (the pre-6.5 behaviour).")]
public sealed class ApiLongtermFileWriteAllowed(Profile profile) : KernelStyleImplementation(profile)
{
    // Without FOLL_LONGTERM the file-write branch never fires; the VM_IO | VM_PFNMAP test still does, and so does the
    // v6.2 long-term P2PDMA refusal, which is not this bug.
    protected override long CheckVmaFlags(Vma vma, long gupFlags) =>
        (gupFlags & FOLL_PCI_P2PDMA) != 0 ? base.CheckVmaFlags(vma, gupFlags) : base.CheckVmaFlags(vma, gupFlags & ~FOLL_LONGTERM);
}

// ---- IOV ------------------------------------------------------------------------------------------------------

[Broken("iov-rfc-source-pinned",
    ["IOV-RFC-SOURCE-GET", "REF-GET-PLUS-ONE", "VMSTAT-GET-INVISIBLE", "GUP-PIN-MARKS-MM"],
    [Rfc],
    2,
    "The RFC's iov_iter_extract_pages() pins a user-backed source, while its iov_iter_extract_mode() still says FOLL_GET.",
    "v8's \"pin every user-backed iterator\" applied to the extraction of an RFC port but not to its mode query.")]
public sealed class IovRfcSourcePinned(Profile profile) : KernelStyleImplementation(profile)
{
    protected override HoldKind ExtractionRetention(IovIter i) => HoldKind.Pin;
}

[Broken("iov-discard-returns-zero",
    ["IOV-UNSUPPORTED"],
    [Rfc, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "iov_iter_extract_pages() returns 0 (nothing extracted) for an ITER_DISCARD iterator instead of -EFAULT.",
    "Systematic mutant: the dispatch's unsupported-type branch returning 0, as if the iterator were empty.")]
public sealed class IovDiscardReturnsZero(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long IovIterExtractPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        if (i.Type == IterKind.Discard)
        {
            offset0 = 0;
            return 0;
        }

        return base.IovIterExtractPages(i, pages, maxsize, maxpages, out offset0);
    }
}

[Broken("iov-extract-mode-unrenumbered-pin",
    ["IOV-RETENTION-QUERY", "BIO-CLEANUP-FLAGS"],
    [V8],
    2,
    "v8's iov_iter_extract_mode() answers the base tree's FOLL_PIN (0x40000) instead of the renumbered bit 0, so bio_set_cleanup_mode() finds no pin either.",
    "PATCH v8 10/10 (FOLL_PIN moved to bit 0 to match BIO_PAGE_PINNED) with iov_iter_extract_mode() still using the v6.2 value.")]
public sealed class IovExtractModeUnrenumberedPin(Profile profile) : KernelStyleImplementation(profile)
{
    // v6.2's include/linux/mm.h; the RFC's tree has the same value, so only v8's renumbering exposes it.
    private static readonly long TreeFollPin = FlagTable.Linux62.ValueOf(Foll.Pin);

    protected override long IovIterExtractMode(IovIter i)
    {
        var mode = base.IovIterExtractMode(i);
        return mode == FOLL_PIN ? TreeFollPin : mode;
    }
}

[Broken("iov-empty-kvec-fix-in-6.5",
    ["IOV-EMPTY-SEGMENT-BUG"],
    [V8, L65],
    3,
    "A v6.5 (or v8) port skips an empty leading KVEC segment, which those trees did not: they returned 0.",
    "f741bd7178c9 \"iov_iter: Fix iov_iter_extract_pages() with zero-sized entries\" (v6.6) applied to a port of an earlier tree.")]
public sealed class IovEmptyKvecFixIn65(Profile profile) : KernelStyleImplementation(profile)
{
    // The fixed helper: skip empty kvecs and list the first non-empty one, as the bvec helper does.
    protected override long IovIterExtractKvecPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0) =>
        IovIterExtractSingleKernelSegment(i, pages, maxsize, maxpages, out offset0);
}

[Broken("iov-empty-kvec-stops-after-6.6",
    ["IOV-EMPTY-SEGMENT-SKIPPED"],
    [L68, L612, L615, L615x32, L618],
    3,
    "A v6.8+ port returns 0 for a KVEC iterator whose first segment is empty, though data follows.",
    "iov_iter_extract_kvec_pages() keeping the pre-f741bd7178c9 `maxsize = min(maxsize, len - skip)` clamp while skipping.")]
public sealed class IovEmptyKvecStopsAfter66(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long IovIterExtractKvecPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        if (i.Iov[i.Cur].Len - i.IovOffset == 0)
        {
            offset0 = 0;
            return 0;
        }

        return base.IovIterExtractKvecPages(i, pages, maxsize, maxpages, out offset0);
    }
}

// ---- BIO ------------------------------------------------------------------------------------------------------

[Broken("bio-bvec-set-takes-refs",
    ["BIO-BVEC-NO-RETENTION"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "bio_iov_bvec_set() takes a reference on every page of a kernel (BVEC) iterator, which the release gate never gives back.",
    "A bio built over a BVEC iterator treated like a user one: get_page() per bvec page while BIO_NO_PAGE_REF / no BIO_PAGE_PINNED says nothing is held.")]
public sealed class BioBvecSetTakesRefs(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioIovBvecSet(Bio bio, IovIter iter)
    {
        base.BioIovBvecSet(bio, iter);
        foreach (var span in bio.Pages.Spans)
        {
            FolioRefAdd(span.Folio, (int)span.Count);
        }
    }
}

// ---- FV -------------------------------------------------------------------------------------------------------

[Broken("fv-pfn-walk-takes-refs",
    ["FV-PFNMAP-NO-REF", "CORE-NO-COLLATERAL"],
    [P2015, L56, L57, L519, Rfc],
    3,
    "The follow_pfn() walk takes a reference on each pfn's page and sets got_ref, as if VM_IO | VM_PFNMAP memory were refcounted.",
    "get_vaddr_pfns() (2015) / get_vaddr_frames() with the pfn branch made symmetric with the pages branch: get_page(pfn_to_page()) per frame.")]
public sealed class FvPfnWalkTakesRefs(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long FollowPfnWalk(Vma vma, ulong start, int nrFrames, FrameVector vec)
    {
        var ret = base.FollowPfnWalk(vma, start, nrFrames, vec);
        foreach (var span in vec.Frames.Spans)
        {
            FolioRefAdd(span.Folio, checked((int)span.Count));
        }

        vec.GotRef = ret > 0;
        return ret;
    }
}

[Broken("fv-no-clamp",
    ["FV-CLAMP"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "get_vaddr_frames() does not clamp nr_frames to nr_allocated: it returns (and holds) more frames than the vector has.",
    "get_vaddr_pfns() (2015) without `if (nr_pfns > pfns->nr_allocated_pfns) nr_pfns = ...` — the clamp Mel Gorman wanted a WARN_ON_ONCE on.")]
public sealed class FvNoClamp(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetVaddrFrames(ulong start, int nrFrames, bool write, FrameVector vec)
    {
        if (nrFrames <= vec.NrAllocated)
        {
            return base.GetVaddrFrames(start, nrFrames, write, vec);
        }

        // The walk fills nr_frames slots of a vector that has nr_allocated (a heap overflow in the kernel).
        var overflowing = new FrameVector(nrFrames) { GotRef = vec.GotRef, IsPfns = vec.IsPfns };
        var ret = base.GetVaddrFrames(start, nrFrames, write, overflowing);
        vec.NrFrames = overflowing.NrFrames;
        vec.GotRef = overflowing.GotRef;
        vec.IsPfns = overflowing.IsPfns;
        vec.Frames = overflowing.Frames;
        return ret;
    }
}

[Broken("fv-zero-frames-efault",
    ["FV-ZERO-FRAMES"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "get_vaddr_frames(nr_frames = 0) returns -EFAULT instead of 0.",
    "get_vaddr_frames() without its `if (nr_frames == 0) return 0;`: nothing is collected and `if (!ret) ret = -EFAULT;` converts it.")]
public sealed class FvZeroFramesEfault(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetVaddrFrames(ulong start, int nrFrames, bool write, FrameVector vec) =>
        nrFrames == 0 ? -Errno.EFAULT : base.GetVaddrFrames(start, nrFrames, write, vec);
}

[Broken("fv-nothing-collected-returns-zero",
    ["FV-EFAULT"],
    [L519, Rfc],
    2,
    "The media get_vaddr_frames() returns 0 when no VMA covers start, instead of -EFAULT.",
    "Mel Gorman's 2015 question (\"Really? ... The meaning of -EFAULT probably needs a comment\") answered by deleting `if (!ret) ret = -EFAULT;`.")]
public sealed class FvNothingCollectedReturnsZero(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetVaddrFrames(ulong start, int nrFrames, bool write, FrameVector vec)
    {
        var ret = base.GetVaddrFrames(start, nrFrames, write, vec);

        // Only the media version (5.11–6.1-rc7) reaches out: with ret == 0 — its vma_lookup() miss breaks out of the
        // pfn loop with nothing collected. The mm/ versions set -EFAULT themselves, and pin_user_pages_fast() never
        // returns 0 for nr_frames >= 1, so the conversion is dead code elsewhere.
        return Profile.FrameVector == FrameVectorScheme.PinsWithPfnFallback && nrFrames > 0 && ret == -Errno.EFAULT && Mm.FindVma(start) is null
            ? 0
            : ret;
    }
}

[Broken("fv-pfn-fallback-kept",
    ["FV-PFNMAP-REMOVED"],
    [L61y, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A v6.1+ get_vaddr_frames() still falls back to follow_pfn() when pinning fails: pfn frames without got_ref.",
    "A port missing 6647e76ab623 \"v4l2: don't fall back to follow_pfn() if pin_user_pages_fast() fails\".")]
public sealed class FvPfnFallbackKept(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetVaddrFrames(ulong start, int nrFrames, bool write, FrameVector vec)
    {
        var ret = base.GetVaddrFrames(start, nrFrames, write, vec);
        if (ret > 0 || nrFrames == 0 || Profile.FrameVector != FrameVectorScheme.PinsOnly)
        {
            return ret;
        }

        // The 6.1-rc7 fallback: no reference, pfns; only a VM_IO | VM_PFNMAP VMA yields any, else the pin's error.
        vec.GotRef = false;
        vec.IsPfns = true;
        if (Mm.FindVma(start) is { } vma && (vma.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0)
        {
            ret = FollowPfnWalk(vma, start, Math.Min(nrFrames, vec.NrAllocated), vec);
            vec.NrFrames = (int)ret;
        }

        return ret;
    }
}

// ---- NETFS ----------------------------------------------------------------------------------------------------

[Broken("netfs-kernel-iter-efault",
    ["NETFS-REJECTS-KERNEL"],
    [L65, L68, L612, L615, L615x32, L618],
    2,
    "netfs_extract_user_iter() refuses a kernel-backed iterator with -EFAULT instead of -EIO.",
    "netfs_extract_iter_to_sg()'s unsupported-type convention (WARN_ONCE, -EFAULT) copied into netfs_extract_user_iter().")]
public sealed class NetfsKernelIterEfault(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long NetfsExtractUserIter(IovIter orig, long origLen, NetfsRequest rreq, out IovIter? newIter)
    {
        var ret = base.NetfsExtractUserIter(orig, origLen, rreq, out newIter);
        return ret == -Errno.EIO ? -Errno.EFAULT : ret;
    }
}

[Broken("netfs-propagates-extract-error",
    ["NETFS-PARTIAL-ON-ERROR", "NETFS-FAIL-WHOLE-ON-ERROR", "GUP-PARTIAL-RESULT"],
    [L65, L68, L612, L615, L615x32, L618],
    2,
    "netfs_extract_user_iter() returns a failed extraction's error instead of the number of bvecs built so far.",
    "The \"Couldn't get user pages\" branch written as `return ret;` instead of `break;` (the pins stay in the request for its cleanup).")]
public sealed class NetfsPropagatesExtractError(Profile profile) : KernelStyleImplementation(profile)
{
    private long _extractError;

    protected override long IovIterExtractPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        var ret = base.IovIterExtractPages(i, pages, maxsize, maxpages, out offset0);
        if (ret < 0)
        {
            _extractError = ret;
        }

        return ret;
    }

    protected override long NetfsExtractUserIter(IovIter orig, long origLen, NetfsRequest rreq, out IovIter? newIter)
    {
        _extractError = 0;
        var ret = base.NetfsExtractUserIter(orig, origLen, rreq, out newIter);
        return _extractError < 0 ? _extractError : ret;
    }
}

[Broken("file-write-fault-stays-clean",
    ["FILE-WRITE-FAULT-DIRTY"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A FOLL_WRITE lookup write-faults a clean page of a shared file mapping writable but leaves the folio clean.",
    "A fault path that makes the PTE writable without fault_dirty_shared_page()/folio_mark_dirty(): the page is written through the pin and never written back.")]
public sealed class FileWriteFaultStaysClean(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void WriteFaultSharedPage(Page page)
    {
    }
}

[Broken("fast-pin-refusal-uncounted",
    ["VMSTAT-FAST-TRANSIENT"],
    [L612],
    2,
    "GUP-fast vets a file page before it pins it, so a long-term pin the slow path must take leaves no transient pin in the counters.",
    "gup_fast_pte_range() with gup_fast_folio_allowed()/gup_must_unshare() moved ahead of try_grab_folio_fast(), as a reader of the counters might expect; 6.12.118 grabs first and gives the pin back with gup_put_folio().")]
public sealed class FastPinRefusalUncounted(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void GupFastLongTermPinPrefix(ulong start, long nrPages, long gupFlags)
    {
    }
}
