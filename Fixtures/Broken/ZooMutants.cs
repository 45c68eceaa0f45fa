using GupConformance.Spec;
using static GupConformance.Fixtures.Broken.Eras;

namespace GupConformance.Fixtures.Broken;

// The zoo (issue 4): historical kernel bugs and near-misses, and systematic mutants, each the reference
// implementation with one primitive overridden. Declarations are checked by BrokenImplementationTests (seed 1,
// every profile) and KillMatrixTests (20 seeds, one representative WrongIn profile).

[Broken("grab-adds-one-not-refs",
    ["REF-GET-PLUS-ONE", "PIN-EXACT-LARGE", "PIN-EXACT-ORDER1", "PIN-BIAS-ORDER1-LEGACY", "PIN-PLACEHOLDER-PLUS-ONE", "REF-LARGE-FOLIO-HEAD", "VMSTAT-ACQ-PER-ENTRY", "GUP-PARTIAL-RESULT", "OVF-SIGN-CHECK", "OVF-SIGN-CHECK-WITHOUT-GRAB", "PIN-BIAS-SMALL"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A batched walk grabs a run of pages of one folio with try_grab_folio(folio, refs) but adds 1 instead of refs (a run of zero-page entries, where the zero page is pinned, is one small folio: one bias where one per entry was due).",
    "GUP-fast / follow_page_mask() batching (record_subpages() + try_grab_folio(folio, refs)) with the count dropped.")]
public sealed class GrabAddsOneNotRefs(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetUserPagesWalk(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        var grab = (gupFlags & (FOLL_GET | FOLL_PIN)) != 0;
        var batch = new List<Page>();
        long done = 0;

        // Grabs the pending run of one folio with a single call; the bug passes 1 instead of the run length.
        long Flush()
        {
            if (batch.Count == 0)
            {
                return 0;
            }

            if (grab)
            {
                var ret = TryGrabFolio(batch[0].Folio, 1, gupFlags);
                if (ret != 0)
                {
                    batch.Clear();
                    return ret;
                }
            }

            foreach (var p in batch)
            {
                pages?.Add(p);
            }

            done += batch.Count;
            batch.Clear();
            return 0;
        }

        for (long i = 0; i < nrPages; i++)
        {
            var addr = start + ((ulong)i << Sizes.PageShift);
            var vma = Mm.FindVma(addr, WalkMm);
            long err = vma is null ? -Errno.EFAULT : CheckVmaFlags(vma, gupFlags);
            if (err != 0)
            {
                var ferr = Flush();
                return done > 0 ? done : ferr != 0 ? ferr : err;
            }

            var page = FollowPageOrFault(vma!, addr, gupFlags);
            if (batch.Count > 0 && !ReferenceEquals(batch[0].Folio, page.Folio))
            {
                var ferr = Flush();
                if (ferr != 0)
                {
                    return done > 0 ? done : ferr;
                }
            }

            batch.Add(page);
        }

        var last = Flush();
        return done > 0 ? done : last != 0 ? last : nrPages;
    }
}

[Broken("ovf-add-unless-zero",
    ["OVF-SIGN-CHECK", "OVF-SIGN-CHECK-WITHOUT-GRAB"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "The grab is an \"add unless zero\" (folio_ref_try_add()): it refuses only a refcount of 0, so a wrapped, negative refcount is grabbed again.",
    "get_page_unless_zero()/page_cache_add_speculative() used where the overflow-checked try_get_page() belongs.")]
public sealed class OvfAddUnlessZero(Profile profile) : KernelStyleImplementation(profile)
{
    protected override int TryGrabFolio(Folio folio, int refs, long flags)
    {
        if (FolioRefCount(folio) == 0)
        {
            return (int)-Errno.ENOMEM;
        }

        GrabFolioRefs(folio, refs, flags);
        return 0;
    }
}

[Broken("zero-pin-never-dropped",
    ["ZERO-PINNED-LEGACY", "REL-UNPIN-BIAS", "REL-EXACT-INVERSE"],
    [L57, L519, Rfc, L62, V8],
    3,
    "unpin of the zero page is a no-op in every era, though before v6.5 pin_user_pages() pinned it: the pin is taken but never dropped.",
    "Backporting only the gup_put_folio() half of c8070b787519 (\"mm: Don't pin ZERO_PAGE in pin_user_pages()\").")]
public sealed class ZeroPinNeverDropped(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void GupPutFolio(Folio folio, int refs, long flags)
    {
        if (folio.IsZeroPfn && (flags & FOLL_PIN) != 0 && Profile.Pins != PinScheme.PlusOne)
        {
            return;
        }

        base.GupPutFolio(folio, refs, flags);
    }
}

[Broken("zero-pin-never-taken",
    ["ZERO-PINNED-LEGACY", "PIN-BIAS-SMALL"],
    [L57, L519, Rfc, L62, V8],
    2,
    "pin_user_pages() skips the zero page in every era, though before v6.5 it was pinned (and its unpin drops 1024 never taken).",
    "Backporting only the try_grab_folio() half of c8070b787519 (\"mm: Don't pin ZERO_PAGE in pin_user_pages()\").")]
public sealed class ZeroPinNeverTaken(Profile profile) : KernelStyleImplementation(profile)
{
    protected override int TryGrabFolio(Folio folio, int refs, long flags)
    {
        if (folio.IsZeroPfn && (flags & FOLL_PIN) != 0 && (flags & FOLL_GET) == 0 && Profile.Pins != PinScheme.PlusOne)
        {
            return FolioRefCount(folio) <= 0 ? (int)-Errno.ENOMEM : 0;
        }

        return base.TryGrabFolio(folio, refs, flags);
    }
}

[Broken("rel-unpin-reffed-as-put",
    ["REL-MISUSE-UNPIN-REFFED", "REL-UNPIN-BIAS"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "unpin_user_page() second-guesses its caller: on a folio that does not look pinned it drops one reference instead of the pin.",
    "\"Unpin of a page that was only reffed\": a defensive unpin that hides the misuse the contract requires to be visible.")]
public sealed class RelUnpinReffedAsPut(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void GupPutFolio(Folio folio, int refs, long flags)
    {
        if ((flags & FOLL_PIN) != 0 && Profile.Pins != PinScheme.PlusOne && !PinSkipsZeroFolio(folio) && !FolioMaybeDmaPinned(folio))
        {
            FolioPutRefs(folio, refs);
            return;
        }

        base.GupPutFolio(folio, refs, flags);
    }
}

// BIO-SAME-PAGE-MERGE: a legacy bio's same-page merge drops its duplicate reference with put_page(), which this bug
// turns into an unpin of the whole bias on a pinned page. BIO-RELEASE-ONE-PER-PAGE: a legacy bio_release_pages() puts
// each page it holds a reference on, and this bug drops a whole pin instead of what was kept for the page.
[Broken("rel-put-pinned-as-unpin",
    ["REL-MISUSE-PUT-PINNED", "REL-PUT-PAGE", "VMSTAT-GET-INVISIBLE", "BIO-SAME-PAGE-MERGE", "BIO-RELEASE-ONE-PER-PAGE"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "put_page() on a folio that reads maybe-DMA-pinned releases a whole pin (bias or pin count) instead of one reference.",
    "\"Put of a page that was pinned\": a put_page() that consults how the page might have been obtained.")]
public sealed class RelPutPinnedAsUnpin(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void PutPage(Page page)
    {
        if (Profile.HasMaybeDmaPinned && !page.Folio.IsZeroPfn && FolioMaybeDmaPinned(page.Folio))
        {
            GupPutFolio(page.Folio, 1, FOLL_PIN);
            return;
        }

        base.PutPage(page);
    }
}

[Broken("gup-error-forgets-release",
    ["GUP-PARTIAL-RESULT"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "When entry k > 0 fails, the walk returns the error and forgets to release (or report) entries 0..k-1: they leak.",
    "An early-return path of __get_user_pages() that returns ret instead of i ? i : ret.")]
public sealed class GupErrorForgetsRelease(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetUserPagesWalk(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        var scratch = pages is null ? null : new PageArray();
        var ret = base.GetUserPagesWalk(start, nrPages, gupFlags, scratch);
        if (ret > 0 && ret < nrPages)
        {
            // The walk stopped early: re-derive its error by walking the failing entry alone (nothing grabbed there).
            var err = base.GetUserPagesWalk(start + ((ulong)ret << Sizes.PageShift), 1, gupFlags & ~(FOLL_GET | FOLL_PIN), null);
            return err < 0 ? err : -Errno.EFAULT;
        }

        if (scratch is not null && pages is not null)
        {
            pages.AddRange(scratch, 0, scratch.Length);
        }

        return ret;
    }
}

[Broken("bio-release-across-folio",
    ["BIO-RELEASE-ONE-PER-PAGE", "CORE-NO-COLLATERAL", "BIO-REFS-LEGACY", "BIO-PINS"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    4,
    "bio_release_pages() walks a bvec that crosses a folio boundary as pages of its first folio: the second folio's pages are released on the first.",
    "Per-bvec references released per page with page_folio() taken once per bvec (the multi-page bvec / bio_for_each_folio_all() hazard).")]
public sealed class BioReleaseAcrossFolio(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioReleasePages(Bio bio, bool markDirty)
    {
        if (!BioPagesHeld(bio))
        {
            return;
        }

        Folio? bvecFolio = null;
        Page? prev = null;
        foreach (var span in bio.Pages.Spans)
        {
            for (long k = 0; k < span.Count; k++)
            {
                var page = new Page(span.Folio, span.First + k);
                var contiguous = prev is { } pp && pp.Folio.Region is not null && ReferenceEquals(pp.Folio.Region, page.Folio.Region)
                    && (pp.Folio.Index << pp.Folio.Order) + pp.Index + 1 == (page.Folio.Index << page.Folio.Order) + page.Index;
                if (!contiguous)
                {
                    bvecFolio = page.Folio;
                }

                var folio = bvecFolio!;
                if (markDirty && BioDirtiesFolio(folio))
                {
                    folio.Dirty = true;
                }

                BioReleasePage(bio, new Page(folio, 0));
                prev = page;
            }
        }
    }
}

[Broken("bio-put-for-pinned",
    ["BIO-PINS", "BIO-RELEASE-ONE-PER-PAGE", "BIO-SAME-PAGE-MERGE", "BIO-LOGICAL-BLOCK-TRIM", "REL-UNPIN-BIAS", "REL-UNPIN-EXACT", "VMSTAT-REL-PER-ENTRY", "REL-EXACT-INVERSE"],
    [V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "A bio whose pages are pinned (BIO_PAGE_PINNED) is released with put_page().",
    "bio_release_page() left on put_page() when e4cc64657bec switched bios to pinning.")]
public sealed class BioPutForPinned(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioReleasePage(Bio bio, Page page)
    {
        if (Profile.Bio != BioScheme.NoPageRef && BioFlagged(bio, BIO_PAGE_PINNED))
        {
            PutPage(page);
            return;
        }

        base.BioReleasePage(bio, page);
    }
}

[Broken("bio-unpin-for-reffed",
    ["BIO-REFS-LEGACY", "BIO-RELEASE-ONE-PER-PAGE", "BIO-SAME-PAGE-MERGE", "BIO-LOGICAL-BLOCK-TRIM", "REL-PUT-PAGE", "VMSTAT-GET-INVISIBLE", "CORE-NO-COLLATERAL"],
    [L57, L519, L61y, Rfc, L62],
    3,
    "A bio whose pages hold references (no BIO_NO_PAGE_REF, ≤ v6.4) is released with unpin_user_page().",
    "Converting bio_release_pages() to unpin before the bio path itself pinned (the order problem of the 2022–2023 series).")]
public sealed class BioUnpinForReffed(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioReleasePage(Bio bio, Page page)
    {
        if (Profile.Bio == BioScheme.NoPageRef)
        {
            UnpinUserPage(page);
            return;
        }

        base.BioReleasePage(bio, page);
    }
}

[Broken("pin-order1-bias-on-64bit",
    ["PIN-EXACT-ORDER1", "CORE-NO-COLLATERAL", "MDP-EXACT"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L618],
    1,
    "An order-1 folio is pinned with GUP_PIN_COUNTING_BIAS on 64-bit 5.19+ (hpage_pincount_available()'s order > 1 kept).",
    "Missing \"mm: Make compound_pincount always available\" (v5.18), or the 32-bit rule of v6.15 applied to 64-bit.")]
public sealed class PinOrder1BiasOn64Bit(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool FolioHasPincount(Folio folio) => Profile.Pins switch
    {
        PinScheme.ExactAllLarge or PinScheme.FolioHasPincount => folio.Order > 1,
        _ => base.FolioHasPincount(folio),
    };
}

[Broken("api-pin-accepts-get",
    ["API-PIN-GET-EXCLUSIVE"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "pin_user_pages*() accept FOLL_PIN | FOLL_GET and walk (taking references) instead of refusing.",
    "Missing WARN_ON_ONCE(gup_flags & FOLL_GET) (pre-6.3) / step 3 of is_valid_gup_args() (6.3+).")]
public sealed class ApiPinAcceptsGet(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool IsValidPinFlagsLegacy(long gupFlags, bool havePages) =>
        base.IsValidPinFlagsLegacy(gupFlags & ~FOLL_GET, havePages);

    protected override bool IsValidGupArgs(bool havePages, ref long gupFlags, long toSet, int? locked = null)
    {
        if ((toSet & FOLL_PIN) == 0 || (gupFlags & FOLL_GET) == 0)
        {
            return base.IsValidGupArgs(havePages, ref gupFlags, toSet, locked);
        }

        var withoutGet = gupFlags & ~FOLL_GET;
        if (!base.IsValidGupArgs(havePages, ref withoutGet, toSet, locked))
        {
            return false;
        }

        gupFlags = withoutGet | FOLL_GET;
        return true;
    }
}

[Broken("vmstat-per-folio",
    ["VMSTAT-ACQ-PER-ENTRY"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "nr_foll_pin_acquired counts folios instead of pages: consecutive pins of one folio count once.",
    "node_stat_mod_folio(folio, NR_FOLL_PIN_ACQUIRED, 1) per folio in a batched grab instead of refs.")]
public sealed class VmstatPerFolio(Profile profile) : KernelStyleImplementation(profile)
{
    private Folio? _last;

    protected override void NodeStatModFollPinAcquired(Folio folio, long refs)
    {
        if (ReferenceEquals(folio, _last))
        {
            return;
        }

        _last = folio;
        base.NodeStatModFollPinAcquired(folio, 1);
    }
}

[Broken("mdp-signed-compare",
    ["MDP-UNSIGNED-AFTER-WRAP", "MDP-NO-FALSE-NEGATIVE"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "folio_maybe_dma_pinned() compares the signed refcount: a refcount wrapped negative reads \"not pinned\".",
    "Systematic mutant: signed for unsigned comparison after wraparound (the cast the kernel comments on).")]
public sealed class MdpSignedCompare(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool FolioMaybeDmaPinned(Folio folio) => FolioHasPincount(folio)
        ? base.FolioMaybeDmaPinned(folio)
        : FolioRefCount(folio) >= GUP_PIN_COUNTING_BIAS;
}

[Broken("rel-range-no-dirty",
    ["REL-UNPIN-RANGE-DIRTY-LOCK"],
    [L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "unpin_user_page_range_dirty_lock(make_dirty) unpins without dirtying.",
    "Systematic mutant: a missing dirty mark (folio_mark_dirty() dropped from the range chunk loop).")]
public sealed class RelRangeNoDirty(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void UnpinUserPageRangeDirtyLock(Page page, long npages, bool makeDirty) =>
        base.UnpinUserPageRangeDirtyLock(page, npages, makeDirty: false);
}

[Broken("folio-add-pin-lost-pincount",
    ["PIN-FOLIO-ADD-PIN"],
    [L65, L68, L612, L615, L615x32, L618],
    3,
    "folio_add_pin() on an exact-count folio adds the reference but loses the pin count update.",
    "Systematic mutant: a lost update on one path (folio_add_pin() vs try_grab_folio()).")]
public sealed class FolioAddPinLostPincount(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void FolioAddPinPrimitive(Folio folio)
    {
        if (!folio.IsZeroPfn && FolioHasPincount(folio))
        {
            FolioRefAdd(folio, 1);
            return;
        }

        base.FolioAddPinPrimitive(folio);
    }
}

// REL-UNPIN-DIRTY-LOCK: unpin_user_pages_dirty_lock(make_dirty = false) is unpin_user_pages(), the same batch loop.
// REL-MISUSE-UNPIN-REFFED: an unpin of entries taken with FOLL_GET goes through the same batch loop, so what the
// misuse does to the refcount is wrong too.
[Broken("unpin-batch-drops-one",
    ["REL-UNPIN-PAGES-BATCH", "REL-UNPIN-EXACT", "REL-UNPIN-BIAS", "REL-UNPIN-PLUS-ONE", "REL-UNPIN-DIRTY-LOCK", "REL-MISUSE-UNPIN-REFFED"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "unpin_user_pages() releases a run of entries of one folio with gup_put_folio(folio, 1) instead of the run length.",
    "Systematic mutant: a lost update in gup_folio_next() batching (ntails ignored).")]
public sealed class UnpinBatchDropsOne(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void UnpinUserPages(PageArray pages, long index, long npages)
    {
        foreach (var (folio, _) in FolioRuns(pages, index, npages))
        {
            GupPutFolio(folio, 1, FOLL_PIN);
        }
    }
}
