namespace GupConformance.Spec;

/// <summary>
/// The named profiles: released kernels and the proposals from the seed threads. Each field's source is
/// given in <see cref="Profile"/>; the per-version facts come from ../shared/reference/linux-gup-semantics.md.
/// </summary>
public static class Profiles
{
    private static readonly EntryPoint[] Legacy57Entries =
    [
        EntryPoint.GetUserPages, EntryPoint.GetUserPagesRemote, EntryPoint.GetUserPagesUnlocked,
        EntryPoint.GetUserPagesFast, EntryPoint.PinUserPages, EntryPoint.PinUserPagesRemote, EntryPoint.PinUserPagesFast,
    ];

    private static readonly EntryPoint[] FastOnlyEraEntries =
    [
        EntryPoint.GetUserPages, EntryPoint.GetUserPagesRemote, EntryPoint.GetUserPagesUnlocked,
        EntryPoint.GetUserPagesFast, EntryPoint.GetUserPagesFastOnly, EntryPoint.PinUserPages,
        EntryPoint.PinUserPagesRemote, EntryPoint.PinUserPagesUnlocked, EntryPoint.PinUserPagesFast,
        EntryPoint.PinUserPagesFastOnly,
    ];

    // pin_user_pages_fast_only() was removed by the v6.3 is_valid_gup_args() series.
    private static readonly EntryPoint[] ModernEntries =
    [
        EntryPoint.GetUserPages, EntryPoint.GetUserPagesRemote, EntryPoint.GetUserPagesUnlocked,
        EntryPoint.GetUserPagesFast, EntryPoint.GetUserPagesFastOnly, EntryPoint.PinUserPages,
        EntryPoint.PinUserPagesRemote, EntryPoint.PinUserPagesUnlocked, EntryPoint.PinUserPagesFast,
    ];

    private const Foll Fast57 = Foll.Write | Foll.LongTerm | Foll.Force | Foll.Pin | Foll.Get;
    private const Foll Fast515 = Fast57 | Foll.FastOnly | Foll.NoFault;
    private const Foll Fast62 = Fast515 | Foll.PciP2pDma;
    private const Foll Fast65 = Fast62 | Foll.HonorNumaFault;

    private const Facet PreIov = Facet.Core | Facet.LargeFolios | Facet.ZeroPage | Facet.Bio | Facet.FrameVector;

    public static readonly Profile Proposal2015GetVaddrPfns = new()
    {
        Id = "proposal-2015-get-vaddr-pfns",
        Title = "Jan Kara's get_vaddr_pfns() as reviewed by Mel Gorman (before FOLL_PIN existed)",
        Basis = "seed 2015-04-get_vaddr_pfns-review.txt on a v4.0-era tree",
        IsProposal = true,
        Version = 400,
        Flags = FlagTable.Linux40,
        Pins = PinScheme.NoPins,
        Validation = ValidationScheme.PrePin,
        ZeroPagePinned = true,
        FastAccepted = Foll.Write | Foll.Get,
        Iov = IovScheme.None,
        Bio = BioScheme.NoPageRef,
        FrameVector = FrameVectorScheme.Proposal2015,
        EntryPoints = [EntryPoint.GetUserPages, EntryPoint.GetUserPagesUnlocked, EntryPoint.GetUserPagesFast],
        Facets = Facet.Core | Facet.LargeFolios | Facet.ZeroPage | Facet.FrameVector,
    };

    public static readonly Profile Linux56 = new()
    {
        Id = "linux-5.6",
        Title = "FOLL_PIN introduced as a placeholder: a pin is +1 like a reference",
        Basis = "v5.6 (eddb1c228f79, seed 2019-10 PATCH v2 07/19); 5.6 tree not inspected",
        Version = 506,
        Flags = FlagTable.Linux57,
        Pins = PinScheme.PlusOne,
        Validation = ValidationScheme.Legacy57,
        ZeroPagePinned = true,
        FastAccepted = Fast57,
        Iov = IovScheme.None,
        Bio = BioScheme.NoPageRef,
        FrameVector = FrameVectorScheme.Refs,
        EntryPoints = Legacy57Entries,
        Facets = PreIov,
    };

    public static readonly Profile Linux57 = Linux56 with
    {
        Id = "linux-5.7",
        Title = "GUP_PIN_COUNTING_BIAS, exact hpage pin counts for order > 1, the pin vmstat counters",
        Basis = "v5.7.14 (3faa52c03f44, 47e29d32afba)",
        Version = 507,
        Pins = PinScheme.ExactAboveOrder1,
        HasPinVmstat = true,
        HasMaybeDmaPinned = true,
    };

    public static readonly Profile Linux519 = Linux57 with
    {
        Id = "linux-5.19",
        Title = "Folios: exact pin count for every large folio; get_* refuse FOLL_LONGTERM; media frame vectors pin",
        Basis = "v5.19 (\"mm: Make compound_pincount always available\", 447f3e45c18a)",
        Version = 519,
        Flags = FlagTable.Linux515,
        Pins = PinScheme.ExactAllLarge,
        Validation = ValidationScheme.Legacy511,
        FastAccepted = Fast515,
        FrameVector = FrameVectorScheme.PinsWithPfnFallback,
        EntryPoints = FastOnlyEraEntries,
        UnpinRefusesErrnoCount = true,
        BioBvecCloned = true,
        Facets = PreIov | Facet.ReleaseArguments | Facet.RemoteMm | Facet.LongtermMigration,
        HasMmPinnedFlag = true,
        MigratesLongtermMovable = true,
    };

    public static readonly Profile Linux62 = Linux519 with
    {
        Id = "linux-6.2",
        Title = "try_grab_page() returns errno; pin_* refuse NULL pages; R/O long-term pins unshare; frame vectors pin only",
        Basis = "v6.2.12 (0f0892356fa1, 6647e76ab623)",
        Version = 602,
        Flags = FlagTable.Linux62,
        Validation = ValidationScheme.Legacy62,
        LongTermUnsharesZeroPage = true,
        FastAccepted = Fast62,
        BioBlockAlign = BioBlockAlign.PerExtraction,
        FrameVector = FrameVectorScheme.PinsOnly,
    };

    /// <summary>
    /// The 6.1 stable branch as Debian's linux-source-6.1 ships it (6.1.192), read from its tree: the 5.19 era's
    /// accounting and validation with backports — the zero page is never pinned (try_grab_page()/try_grab_folio()/
    /// gup_put_folio() is_zero_page checks, mm/gup.c), every pin_* entry refuses a NULL pages array, bio_release_pages()
    /// dirties compound folios too (__bio_release_pages(), block/bio.c) and get_vaddr_frames() only pins.
    /// </summary>
    public static readonly Profile Linux61Stable = Linux519 with
    {
        Id = "linux-6.1.y",
        Title = "The 6.1 stable branch: the zero page is not pinned, pin_* refuse NULL pages, bios dirty compound pages, frame vectors only pin",
        Basis = "Debian linux-source-6.1 6.1.192: mm/gup.c, include/linux/mm.h, block/bio.c, include/linux/bio.h, drivers/media/common/videobuf2/frame_vector.c",
        Version = 601,
        Validation = ValidationScheme.Legacy61Stable,
        ZeroPagePinned = false,
        BioDirtiesCompound = true,
        FrameVector = FrameVectorScheme.PinsOnly,
        FrameVectorAlwaysWrites = true,
        SignCheckWithoutGrab = true,
        BioBlockAlign = BioBlockAlign.PerExtraction,
    };

    public static readonly Profile Proposal2022IovExtractRfc = Linux519 with
    {
        Id = "proposal-2022-iov-extract-rfc",
        Title = "David Howells' RFC: iov_iter_extract_pages() takes refs for a user source, pins for a user destination",
        Basis = "seed 2022-11-iov_iter-extraction-rfc.txt on a v6.1-rc tree",
        IsProposal = true,
        Version = 601,
        Iov = IovScheme.Rfc2022,
        BioBlockAlign = BioBlockAlign.PerExtraction,
        Facets = PreIov | Facet.IovIter | Facet.ReleaseArguments | Facet.AllocFailure | Facet.RemoteMm | Facet.LongtermMigration,
    };

    public static readonly Profile Proposal2023IovExtractV8 = Linux62 with
    {
        Id = "proposal-2023-iov-extract-v8",
        Title = "The v8 series: pin every user-backed iterator, BIO_PAGE_PINNED + BIO_PAGE_REFFED, FOLL_PIN = bit 0",
        Basis = "seed 2023-01-iov_iter-extraction-v8-bio-flags.txt on a v6.2-rc tree",
        IsProposal = true,
        Version = 602,
        Flags = FlagTable.Proposal2023V8,
        Iov = IovScheme.V8Pin,
        IovEmptyLeadingSegmentBug = true,
        Bio = BioScheme.ReffedAndPinned,
        Facets = PreIov | Facet.IovIter | Facet.ReleaseArguments | Facet.AllocFailure | Facet.RemoteMm | Facet.LongtermMigration,
    };

    public static readonly Profile Linux65 = Linux62 with
    {
        Id = "linux-6.5",
        Title = "is_valid_gup_args(); the zero page is never pinned; folio_add_pin(); bios pin (BIO_PAGE_PINNED)",
        Basis = "v6.5 (d64e2dbc33a1, c8070b787519, 1101fb8f89e5, e4cc64657bec)",
        Version = 605,
        Flags = FlagTable.Linux65,
        Validation = ValidationScheme.ValidGupArgs63,
        ZeroPagePinned = false,
        HasFolioAddPin = true,
        FastRangeOverflowResult = -Errno.EOVERFLOW,
        RefusesLongTermFileWritePins = true,
        FastAccepted = Fast65,
        Iov = IovScheme.Merged,
        IovEmptyLeadingSegmentBug = true,
        Bio = BioScheme.PinnedOnly,
        HasNetfs = true,
        EntryPoints = ModernEntries,
        Facets = Facet.All,
    };

    public static readonly Profile Linux68 = Linux65 with
    {
        Id = "linux-6.8",
        Title = "INTERNAL_GUP_FLAGS (FOLL_TOUCH refused); bios dirty compound pages; empty KVEC/BVEC segments fixed",
        Basis = "v6.8 (1b151e2435fc, f741bd7178c9)",
        Version = 608,
        Validation = ValidationScheme.ValidGupArgs68,
        IovEmptyLeadingSegmentBug = false,
        BioDirtiesCompound = true,
    };

    /// <summary>
    /// A stable tree (Debian's linux-source-6.12, read as a whole): 6.8 plus FOLL_MADV_POPULATE among the internal flags
    /// (1 &lt;&lt; 22 in mm/internal.h), one BVEC per extraction, two stable fixes that mainline 6.13–6.19 handle differently
    /// or later, the sign check of try_grab_folio() ahead of its flag tests, and GUP-fast's pin-then-refuse of file pages.
    /// </summary>
    public static readonly Profile Linux612Stable = Linux68 with
    {
        Id = "linux-6.12.118",
        Title = "A 6.12.y stable tree: FOLL_MADV_POPULATE internal; NULL entries skipped by unpin_user_pages(); netfs fails whole on an error",
        Basis = "Debian linux-source-6.12 (6.12.118), mm/, lib/, block/, fs/netfs read in full, drivers/media/common/videobuf2/frame_vector.c",
        Version = 612,
        Flags = FlagTable.Linux612,
        UnpinSkipsNullEntry = true,
        NetfsFailsWholeOnError = true,
        SignCheckWithoutGrab = true,
        FastPinTransients = true,
    };

    public static readonly Profile Linux615 = Linux68 with
    {
        Id = "linux-6.15",
        Title = "folio_has_pincount() on 64-bit: every large folio keeps an exact pin count",
        Basis = "v6.15 (\"mm: move _pincount in folio to page[2] on 32bit\"), checked in 6.18.2/6.19; multi-bvec extraction as in 6.13.7",
        Version = 615,
        Flags = FlagTable.Linux612,
        Pins = PinScheme.FolioHasPincount,
        IovBvecMultiSegment = true,
        UnpinSkipsNullEntry = true,
    };

    public static readonly Profile Linux615Bit32 = Linux615 with
    {
        Id = "linux-6.15-32bit",
        Title = "folio_has_pincount() on 32-bit: order-1 folios are back on GUP_PIN_COUNTING_BIAS",
        Is64Bit = false,
    };

    public static readonly Profile Linux618 = Linux615 with
    {
        Id = "linux-6.18",
        Title = "The newest released kernel checked (6.18.2): as 6.15 on 64-bit",
        Basis = "v6.18.2 (gfunkmonk/linux-6.18.2 @57dc26c98)",
        Version = 618,
        BioBlockAlign = BioBlockAlign.WholeBio,
    };

    /// <summary>All profiles, oldest first; the last released kernel is the default.</summary>
    public static IReadOnlyList<Profile> All { get; } =
    [
        Proposal2015GetVaddrPfns, Linux56, Linux57, Linux519, Linux61Stable, Proposal2022IovExtractRfc, Linux62,
        Proposal2023IovExtractV8, Linux65, Linux68, Linux612Stable, Linux615, Linux615Bit32, Linux618,
    ];

    public static Profile Default => Linux618;

    public static Profile? Find(string id) => All.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.Ordinal));

    public static Profile Get(string id) => Find(id)
        ?? throw new ArgumentException($"unknown profile '{id}'; known profiles: {string.Join(", ", All.Select(p => p.Id))}", nameof(id));
}
