namespace GupConformance.Spec;

/// <summary>How FOLL_PIN is accounted on a folio in an era.</summary>
public enum PinScheme
{
    /// <summary>No FOLL_PIN at all (before v5.6, e.g. the 2015 proposal): only references exist.</summary>
    NoPins,

    /// <summary>v5.6 (eddb1c228f79): a pin is a plain +1 reference, released like one.</summary>
    PlusOne,

    /// <summary>v5.7–v5.17: exact count (hpage_pinned_refcount) only for compound pages of order &gt; 1; BIAS otherwise.</summary>
    ExactAboveOrder1,

    /// <summary>v5.18–v6.14: exact count (compound_pincount / _pincount) for every large folio.</summary>
    ExactAllLarge,

    /// <summary>v6.15+: folio_has_pincount(): every large folio on 64-bit, order &gt; 1 only on 32-bit.</summary>
    FolioHasPincount,
}

/// <summary>How the GUP entry points validate their arguments.</summary>
public enum ValidationScheme
{
    /// <summary>Before FOLL_PIN (2015): no pin checks at all.</summary>
    PrePin,

    /// <summary>v5.6–v5.10: get_* refuse FOLL_PIN, pin_* refuse FOLL_GET, get_user_pages(FOLL_LONGTERM) allowed.</summary>
    Legacy57,

    /// <summary>v5.11–v6.1: adds is_valid_gup_flags() (447f3e45c18a): get_* also refuse FOLL_LONGTERM.</summary>
    Legacy511,

    /// <summary>v6.2: as Legacy511, and pin_user_pages()/pin_user_pages_fast() refuse a NULL pages array.</summary>
    Legacy62,

    /// <summary>
    /// The 6.1 stable branch (read in 6.1.192, mm/gup.c): as Legacy511, and every pin_* entry point — pin_user_pages,
    /// _fast, _remote, _unlocked and _fast_only — refuses a NULL pages array (WARN_ON_ONCE(!pages)).
    /// </summary>
    Legacy61Stable,

    /// <summary>v6.3–v6.5: is_valid_gup_args() with the explicit internal list (FOLL_TOUCH not refused).</summary>
    ValidGupArgs63,

    /// <summary>v6.8+: is_valid_gup_args() with INTERNAL_GUP_FLAGS (FOLL_TOUCH refused; FOLL_MADV_POPULATE from 6.12).</summary>
    ValidGupArgs68,
}

/// <summary>What iov_iter page extraction does in an era.</summary>
public enum IovScheme
{
    /// <summary>No iov_iter_extract_pages() in this era.</summary>
    None,

    /// <summary>RFC 2022-11: FOLL_GET for a user-backed source, FOLL_PIN for a user-backed destination; KVEC unsupported.</summary>
    Rfc2022,

    /// <summary>v8 2023-01: every user-backed iterator is pinned; iov_iter_extract_mode() returns FOLL_PIN or 0.</summary>
    V8Pin,

    /// <summary>v6.3+: iov_iter_extract_pages() + iov_iter_extract_will_pin(); pins for UBUF/IOVEC.</summary>
    Merged,
}

/// <summary>Which flags a bio built from an iterator carries and how it releases its pages.</summary>
public enum BioScheme
{
    /// <summary>≤ v6.4: BIO_NO_PAGE_REF on BVEC bios; otherwise every page holds a FOLL_GET reference.</summary>
    NoPageRef,

    /// <summary>The 2023 v8 proposal: BIO_PAGE_PINNED (bit 0) + BIO_PAGE_REFFED (bit 1), bio_set_cleanup_mode(), page_put_unpin().</summary>
    ReffedAndPinned,

    /// <summary>v6.5+: BIO_PAGE_PINNED only; pages are pinned for user-backed iterators.</summary>
    PinnedOnly,
}

/// <summary>How bio_iov_iter_get_pages() keeps a bio a multiple of the device's logical block size.</summary>
public enum BioBlockAlign
{
    /// <summary>
    /// ≤ v5.19: the bio layer does not look at the block size (the direct-I/O callers refuse misaligned iovecs first):
    /// every extraction is added whole.
    /// </summary>
    None,

    /// <summary>
    /// v6.0–v6.17 ("block: relax direct io memory alignment", v6.0 cycle; read in 6.1.192 and 6.12.118): each extraction is
    /// trimmed to a multiple of bdev_logical_block_size(), the trimmed bytes reverted to the iterator, the pages no longer
    /// covered released at once, and an extraction left empty is -EFAULT.
    /// </summary>
    PerExtraction,

    /// <summary>
    /// v6.18+: bio_iov_iter_align_down() trims the finished bio (whole trailing bvecs, releasing only each bvec's first
    /// page). Not modelled: a BioAdd that would need it is invalid.
    /// </summary>
    WholeBio,
}

/// <summary>get_vaddr_frames() / get_vaddr_pfns() behaviour.</summary>
public enum FrameVectorScheme
{
    /// <summary>Jan Kara's 2015 get_vaddr_pfns() as reviewed (seed 2015-04).</summary>
    Proposal2015,

    /// <summary>v4.2–v5.10 mm/frame_vector.c: FOLL_GET refs on normal VMAs, follow_pfn() on VM_IO|VM_PFNMAP.</summary>
    Refs,

    /// <summary>v5.11–v6.1-rc7 (media): FOLL_LONGTERM pins, follow_pfn() fallback only when pinning fails.</summary>
    PinsWithPfnFallback,

    /// <summary>v6.1 final+ (6647e76ab623): pins only; VM_IO|VM_PFNMAP no longer supported.</summary>
    PinsOnly,
}

/// <summary>
/// A named, selectable set of era parameters: one released kernel, or one proposal from the seed threads.
/// Every difference the model makes between eras is a field here, never a version comparison elsewhere.
/// </summary>
public sealed record Profile
{
    public required string Id { get; init; }

    /// <summary>What this profile stands for, in one line.</summary>
    public required string Title { get; init; }

    /// <summary>Kernel version(s) or thread the parameters come from.</summary>
    public required string Basis { get; init; }

    public bool IsProposal { get; init; }

    /// <summary>Base kernel version as major*100+minor (a proposal: the tree it was posted against).</summary>
    public required int Version { get; init; }

    public bool Is64Bit { get; init; } = true;

    public required FlagTable Flags { get; init; }

    public required PinScheme Pins { get; init; }

    public required ValidationScheme Validation { get; init; }

    /// <summary>The entry points check their arguments with is_valid_gup_args() (v6.3+).</summary>
    public bool HasValidGupArgs => Validation is ValidationScheme.ValidGupArgs63 or ValidationScheme.ValidGupArgs68;

    /// <summary>True before v6.5 (c8070b787519): FOLL_PIN pins the shared zero page like any small page.</summary>
    public required bool ZeroPagePinned { get; init; }

    /// <summary>v6.2+ (gup_must_unshare() non-anon FOLL_LONGTERM clause): a R/O long-term pin never returns the zero page.</summary>
    public bool LongTermUnsharesZeroPage { get; init; }

    /// <summary>v5.7+: nr_foll_pin_acquired / nr_foll_pin_released exist.</summary>
    public bool HasPinVmstat { get; init; }

    /// <summary>v5.7+: page_maybe_dma_pinned() / folio_maybe_dma_pinned() exists.</summary>
    public bool HasMaybeDmaPinned { get; init; }

    /// <summary>
    /// v5.11+ (146608bb75e6; absent in 5.7.14, present in 5.11.4): unpin_user_pages() WARNs and returns when npages is
    /// a -errno value.
    /// </summary>
    public bool UnpinRefusesErrnoCount { get; init; }

    /// <summary>
    /// v5.9+ (008cfe4418b3 "mm: Introduce mm_struct.has_pinned"; the MMF_HAS_PINNED bit of mm-&gt;flags in 6.1.192 and
    /// 6.12.118, include/linux/sched/coredump.h): a FOLL_PIN call marks the address space it walks, for fork() to consult.
    /// </summary>
    public bool HasMmPinnedFlag { get; init; }

    /// <summary>
    /// v5.13+ (d1e153fea2a8 "mm/gup: migrate pinned pages out of movable zone"; check_and_migrate_movable_pages() read in
    /// 6.1.192 and 6.12.118 mm/gup.c, and as v5.19/v6.0 text): a FOLL_LONGTERM pin of a page that is not
    /// folio_is_longterm_pinnable() — ZONE_MOVABLE, MIGRATE_CMA / MIGRATE_ISOLATE — unpins every entry, migrates the page
    /// and pins again (GUP-MIGRATE-*). Before it (5.7..5.12, check_and_migrate_cma_pages()) only CMA pages moved:
    /// those eras are not modelled (CONTRACT §10), so their profiles leave the flag off and offer no movable region.
    /// </summary>
    public bool MigratesLongtermMovable { get; init; }

    /// <summary>
    /// v6.13+ ("mm/gup: handle NULL pages in unpin_user_pages()", Nov 2024; also in 6.12.y stable: present in 6.12.118,
    /// absent in 6.1.192): unpin_user_pages() steps over a NULL entry a run would start at.
    /// </summary>
    public bool UnpinSkipsNullEntry { get; init; }

    /// <summary>v6.5+ (1101fb8f89e5): folio_add_pin().</summary>
    public bool HasFolioAddPin { get; init; }

    /// <summary>GUP-fast: start + len overflow returns 0 (≤ 6.4) or -EOVERFLOW (6.5+).</summary>
    public long FastRangeOverflowResult { get; init; }

    /// <summary>v6.5+ (check_vma_flags / writable_file_mapping_allowed): long-term write pins of file mappings → -EFAULT.</summary>
    public bool RefusesLongTermFileWritePins { get; init; }

    /// <summary>Flags the fast entry points accept (internal_get_user_pages_fast / gup_fast_fallback mask).</summary>
    public required Foll FastAccepted { get; init; }

    public required IovScheme Iov { get; init; }

    /// <summary>v6.3–v6.5 (fixed in v6.6 by f741bd7178c9): an empty leading KVEC/BVEC segment makes extraction return 0.</summary>
    public bool IovEmptyLeadingSegmentBug { get; init; }

    /// <summary>
    /// v6.13+ (lib/iov_iter.c iov_iter_extract_bvec_pages() walks a bvec_iter; 6.12.118 takes the current bvec only):
    /// one BVEC extraction may return pages of several bvecs.
    /// </summary>
    public bool IovBvecMultiSegment { get; init; }

    public required BioScheme Bio { get; init; }

    /// <summary>Where a bio is trimmed to the device's logical block size (BIO-LOGICAL-BLOCK-TRIM).</summary>
    public BioBlockAlign BioBlockAlign { get; init; }

    /// <summary>
    /// From a release between 5.8 and 5.15 on (bio_iov_bvec_set(); absent in a 5.7-rc tree, present in a 5.15-era tree, 6.1.192, 6.12.118): a BVEC bio points at the caller's bvecs and is flagged
    /// BIO_CLONED beside its retention flag. Before, __bio_iov_bvec_add_pages() added the bvecs one by one and only
    /// BIO_NO_PAGE_REF was set (BIO-BVEC-CLONED).
    /// </summary>
    public bool BioBvecCloned { get; init; }

    /// <summary>v6.8+ (1b151e2435fc): bio_release_pages(mark_dirty) dirties compound pages too.</summary>
    public bool BioDirtiesCompound { get; init; }

    public required FrameVectorScheme FrameVector { get; init; }

    /// <summary>
    /// Before v6.2 get_vaddr_frames() had no write argument: it pins FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM whatever
    /// the caller wants (6.1.192 drivers/media/common/videobuf2/frame_vector.c); from v6.2 FOLL_WRITE only for a write.
    /// </summary>
    public bool FrameVectorAlwaysWrites { get; init; }

    /// <summary>v6.3+: netfs_extract_user_iter().</summary>
    public bool HasNetfs { get; init; }

    /// <summary>
    /// A stable fix to netfs_extract_user_iter() (present in 6.12.118 and 6.6.141, absent in mainline 6.13.7, 6.18.2 and
    /// 6.19): an extraction of nothing is -EIO, and an error with no bvec built, or -ENOMEM, unpins what was pinned
    /// and is returned.
    /// </summary>
    public bool NetfsFailsWholeOnError { get; init; }

    /// <summary>
    /// try_grab_page()/try_grab_folio() test the refcount before they look at the flags, so a walk with neither
    /// FOLL_GET nor FOLL_PIN (no pages array) still stops with -ENOMEM at a folio whose refcount is &lt;= 0, although
    /// follow_page_pte() says "does nothing unless FOLL_GET or FOLL_PIN is set" (read in 6.1.192 and 6.12.118
    /// mm/gup.c; in v5.7 the test was inside the FOLL_GET/FOLL_PIN branches).
    /// </summary>
    public bool SignCheckWithoutGrab { get; init; }

    /// <summary>
    /// GUP-fast pins a page before it vets it, and gives a pin it refuses back with gup_put_folio(): for a
    /// FOLL_LONGTERM pin of a file page, gup_fast_folio_allowed() refuses a write pin and gup_must_unshare(NULL, ...)
    /// a read-only-mapped one (it cannot see the VMA). That pin counts once in nr_foll_pin_acquired and once in
    /// nr_foll_pin_released before the slow path takes over (read in 6.12.118 mm/gup.c gup_fast_pte_range(); 6.1.192
    /// has neither test there).
    /// </summary>
    public bool FastPinTransients { get; init; }

    /// <summary>The GUP entry points that exist in this era.</summary>
    public required IReadOnlyList<EntryPoint> EntryPoints { get; init; }

    /// <summary>Facets an implementation of this profile can meaningfully offer.</summary>
    public required Facet Facets { get; init; }

    public override string ToString() => Id;
}
