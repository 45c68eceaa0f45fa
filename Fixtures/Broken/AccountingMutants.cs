using GupConformance.Spec;
using static GupConformance.Fixtures.Broken.Eras;

namespace GupConformance.Fixtures.Broken;

// Broken implementations of the folio accounting primitives (PIN, REF, MDP, REL, VMSTAT, ZERO, OVF, CORE).
// Each is the reference with one primitive overridden.

[Broken("pin-bias-adds-refs",
    ["PIN-BIAS-SMALL", "PIN-BIAS-ORDER1-LEGACY", "PIN-BIAS-ORDER1-32BIT"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "A FOLL_PIN grab of a folio without an exact count adds refs instead of refs * GUP_PIN_COUNTING_BIAS.",
    "The FOLL_PIN branch written as for FOLL_GET (the v5.6 placeholder kept after the bias arrived in 5.7).")]
public sealed class PinBiasAddsRefs(Profile profile) : KernelStyleImplementation(profile)
{
    protected override int TryGrabFolio(Folio folio, int refs, long flags)
    {
        var biasPin = (flags & FOLL_PIN) != 0 && (flags & FOLL_GET) == 0 && Profile.Pins != PinScheme.PlusOne
            && !FolioHasPincount(folio) && !PinSkipsZeroFolio(folio);
        if (!biasPin)
        {
            return base.TryGrabFolio(folio, refs, flags);
        }

        if (FolioRefCount(folio) <= 0)
        {
            return (int)-Errno.ENOMEM;
        }

        FolioRefAdd(folio, refs); // bug: should be refs * GUP_PIN_COUNTING_BIAS
        NodeStatModFollPinAcquired(folio, refs);
        return 0;
    }
}

[Broken("pin-order1-exact-on-32bit",
    ["PIN-BIAS-ORDER1-32BIT", "MDP-BIAS-THRESHOLD"],
    [L615x32],
    1,
    "folio_has_pincount() is folio_test_large() on 32-bit too, so an order-1 folio gets an exact count.",
    "Porting 6.14's folio_test_large() test forward past \"mm: move _pincount in folio to page[2] on 32bit\".")]
public sealed class PinOrder1ExactOn32Bit(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool FolioHasPincount(Folio folio) =>
        Profile.Pins == PinScheme.FolioHasPincount ? folio.Order >= 1 : base.FolioHasPincount(folio);
}

[Broken("ref-no-implied-get",
    ["REF-IMPLIED-GET", "REF-GET-PLUS-ONE", "ZERO-GET-COUNTS"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "get_user_pages() with a pages array does not add FOLL_GET: pages are returned without references.",
    "Dropping `if (pages && !(flags & FOLL_PIN)) flags |= FOLL_GET;` from __get_user_pages_locked().")]
public sealed class RefNoImpliedGet(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long GetUserPagesLocked(ulong start, long nrPages, long gupFlags, PageArray? pages, int mm = 0) =>
        GetUserPagesIn(mm, start, nrPages, gupFlags, pages);
}

[Broken("mdp-strictly-greater",
    ["MDP-BIAS-THRESHOLD"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "folio_maybe_dma_pinned() compares (unsigned)refcount > 1024 instead of >= 1024.",
    "An off-by-one in the bias threshold; the minimal counterexample is one MapRegion at StartRefcount 1024.")]
public sealed class MdpStrictlyGreater(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool FolioMaybeDmaPinned(Folio folio) => FolioHasPincount(folio)
        ? base.FolioMaybeDmaPinned(folio)
        : unchecked((uint)FolioRefCount(folio)) > GUP_PIN_COUNTING_BIAS;
}

[Broken("rel-dirty-lock-skips-compound",
    ["REL-UNPIN-DIRTY-LOCK"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "unpin_user_pages_dirty_lock(make_dirty) does not dirty large folios.",
    "Copying bio_release_pages()'s `!PageCompound(page)` exception into the GUP release path.")]
public sealed class RelDirtyLockSkipsCompound(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void UnpinUserPagesDirtyLock(PageArray pages, long index, long npages, bool makeDirty)
    {
        foreach (var (folio, run) in FolioRuns(pages, index, npages))
        {
            if (makeDirty && folio.Order == 0)
            {
                FolioMarkDirtyLock(folio);
            }

            GupPutFolio(folio, checked((int)run), FOLL_PIN);
        }
    }
}

[Broken("vmstat-counts-get",
    ["VMSTAT-GET-INVISIBLE"],
    [L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "nr_foll_pin_acquired is incremented for FOLL_GET grabs too.",
    "node_stat_mod_folio(NR_FOLL_PIN_ACQUIRED) hoisted out of the FOLL_PIN branch of try_grab_folio().")]
public sealed class VmstatCountsGet(Profile profile) : KernelStyleImplementation(profile)
{
    protected override int TryGrabFolio(Folio folio, int refs, long flags)
    {
        var ret = base.TryGrabFolio(folio, refs, flags);
        if (ret == 0 && (flags & FOLL_GET) != 0)
        {
            NodeStatModFollPinAcquired(folio, refs);
        }

        return ret;
    }
}

[Broken("zero-page-pinned-after-6.5",
    ["ZERO-NOT-PINNED"],
    [L61y, L65, L68, L612, L615, L615x32, L618],
    2,
    "FOLL_PIN grabs and releases of the shared zero page are not no-ops from v6.5 on.",
    "A 6.5+ port missing c8070b787519 \"mm: Don't pin ZERO_PAGE in pin_user_pages()\" (the is_zero_folio() tests).")]
public sealed class ZeroPagePinnedAfter65(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool PinSkipsZeroFolio(Folio folio) => false;
}

[Broken("ovf-no-sign-check",
    ["OVF-SIGN-CHECK", "OVF-SIGN-CHECK-WITHOUT-GRAB"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "try_grab_folio() has no WARN_ON_ONCE(refcount <= 0) check: a grab on a wrapped refcount succeeds.",
    "Pre-2019 GUP, before the refcount-overflow hardening (try_get_page()) added the sign check.")]
public sealed class OvfNoSignCheck(Profile profile) : KernelStyleImplementation(profile)
{
    protected override int TryGrabFolio(Folio folio, int refs, long flags)
    {
        GrabFolioRefs(folio, refs, flags);
        return 0;
    }
}

// BIO-SAME-PAGE-MERGE: a same-page merge gives its duplicate reference back with put_page(), so with the wrong folio
// released the merged page keeps the duplicate, which that rule forbids. BIO-LOGICAL-BLOCK-TRIM: a legacy bio releases
// the pages its trimmed size no longer reaches with put_page() too, so those stay held. REL-MISUSE-PUT-PINNED: a
// put_page() of a pinned page drops one reference from that page's folio, which here goes to another folio.
[Broken("core-put-page-wrong-folio",
    ["CORE-NO-COLLATERAL", "REL-PUT-PAGE", "BIO-SAME-PAGE-MERGE", "BIO-LOGICAL-BLOCK-TRIM", "REL-MISUSE-PUT-PINNED"],
    [P2015, L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "put_page() on a tail page drops the reference of the folio indexed by the page's index in the region.",
    "Resolving a tail page without compound_head()/page_folio(): the physical page number used as a folio index.")]
public sealed class CorePutPageWrongFolio(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void PutPage(Page page)
    {
        var region = page.Folio.Region;
        if (region is null || page.Folio.Order == 0)
        {
            base.PutPage(page);
            return;
        }

        var wrongIndex = Math.Min((page.Folio.Index << page.Folio.Order) + page.Index, region.Folios.Length - 1);
        var wrong = region.Folios[wrongIndex] ?? page.Folio;
        base.PutPage(new Page(wrong, 0));
    }
}
