using GupConformance.Spec;
using static GupConformance.Fixtures.Broken.Eras;

namespace GupConformance.Fixtures.Broken;

// Broken implementations of the entry points and consumers (API, IOV, BIO, FV, NETFS).

[Broken("api-get-accepts-pin",
    ["API-GET-REFUSES-PIN", "API-INTERNAL-FLAGS"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    1,
    "get_user_pages*() accept a caller-passed FOLL_PIN and pin.",
    "Missing WARN_ON_ONCE(gup_flags & FOLL_PIN) (pre-6.3) / FOLL_PIN left out of the internal-flags list (6.3+).")]
public sealed class ApiGetAcceptsPin(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool IsValidGupFlagsLegacy(long gupFlags) => base.IsValidGupFlagsLegacy(gupFlags & ~FOLL_PIN);

    protected override long InternalGupFlags() => base.InternalGupFlags() & ~FOLL_PIN;
}

[Broken("api-pin-returns-einval",
    ["API-PIN-RETURNS-ZERO"],
    [L65, L68, L612, L615, L615x32, L618],
    1,
    "pin_user_pages() returns -EINVAL instead of 0 when is_valid_gup_args() refuses (v6.3+).",
    "Keeping the pre-6.3 return convention after d64e2dbc33a1.")]
public sealed class ApiPinReturnsEinval(Profile profile) : KernelStyleImplementation(profile)
{
    protected override long PinUserPages(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        // nr_pages >= 1, so the walk never returns 0: a 0 here is a refusal.
        var ret = base.PinUserPages(start, nrPages, gupFlags, pages);
        return ret == 0 ? -Errno.EINVAL : ret;
    }
}

// PIN-EXACT-ORDER1: where order-1 folios keep an exact pin count, a reference taken instead of a pin leaves it at 0.
[Broken("iov-source-takes-refs",
    ["IOV-USER-PIN", "PIN-BIAS-SMALL", "PIN-EXACT-LARGE", "PIN-EXACT-ORDER1", "VMSTAT-ACQ-PER-ENTRY", "ZERO-NOT-PINNED", "GUP-PIN-MARKS-MM"],
    [V8, L65, L68, L612, L615, L615x32, L618],
    2,
    "iov_iter_extract_pages() takes FOLL_GET references for a user-backed source where the era pins.",
    "The 2022 RFC's source branch (iov_iter_extract_user_pages_and_get) kept after v8 switched to pinning.")]
public sealed class IovSourceTakesRefs(Profile profile) : KernelStyleImplementation(profile)
{
    protected override HoldKind ExtractionRetention(IovIter i) => i.DataSource ? HoldKind.Ref : HoldKind.Pin;
}

[Broken("bio-same-page-keeps-duplicate",
    ["BIO-SAME-PAGE-MERGE"],
    [L56, L57, L519, L61y, Rfc, L62, V8, L65, L68, L612, L615, L615x32, L618],
    3,
    "A same-page merge keeps the extra ref/pin just taken for the page the last bvec ends in.",
    "Dropping `if (same_page) put_page(page)` / bio_release_page() from bio_iov_add_page().")]
public sealed class BioSamePageKeepsDuplicate(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void BioDropSamePageDuplicate(Bio bio, Page page)
    {
    }
}

[Broken("bio-no-page-ref-old-meaning",
    ["BIO-PINS", "BIO-RELEASE-ONE-PER-PAGE", "CORE-NO-COLLATERAL"],
    [V8, L65, L68, L612, L615, L615x32, L618],
    4,
    "bio_release_pages() still reads bit 0 as BIO_NO_PAGE_REF after the inversion, so a BIO_PAGE_PINNED bio is never released.",
    "e812d15adde4 \"block: Replace BIO_NO_PAGE_REF with BIO_PAGE_REFFED with inverted logic\" with a caller left on the old meaning.")]
public sealed class BioNoPageRefOldMeaning(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool BioPagesHeld(Bio bio) => !BioFlagged(bio, 0);
}

[Broken("fv-put-ignores-got-ref",
    ["FV-PUT-ONLY-IF-GOT-REF", "VMSTAT-GET-INVISIBLE", "VMSTAT-REL-PER-ENTRY", "CORE-NO-COLLATERAL"],
    [P2015, L56, L57, L519, Rfc],
    4,
    "put_vaddr_frames() releases pfn frames it never took a reference on (put_page(pfn_to_page())).",
    "The 2015 get_vaddr_pfns() review: \"I'm not sure what this is putting exactly\" — the !is_pages branch without the got_ref test.")]
public sealed class FvPutIgnoresGotRef(Profile profile) : KernelStyleImplementation(profile)
{
    protected override void PutVaddrFrames(FrameVector vec)
    {
        PutFrames(vec);
        vec.GotRef = false;
        vec.NrFrames = 0;
    }
}

[Broken("netfs-cleanup-asks-bvec-copy",
    ["NETFS-CLEANUP-ORIGINAL"],
    [L65, L68, L612, L615, L615x32, L618],
    4,
    "netfs records iov_iter_extract_will_pin() of its BVEC copy, which says no, so the pins leak.",
    "Querying the iterator after netfs_extract_user_iter() replaced it (the hazard the cifs/netfs code comments on).")]
public sealed class NetfsCleanupAsksBvecCopy(Profile profile) : KernelStyleImplementation(profile)
{
    protected override bool NetfsDirectBvUnpin(IovIter orig, IovIter? bvecCopy) =>
        bvecCopy is not null && IovIterExtractWillPin(bvecCopy);
}
