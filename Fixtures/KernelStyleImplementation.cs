using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// The reference implementation: a kernel-shaped, imperative port of mm/gup.c, lib/iov_iter.c, block/bio.c,
/// frame_vector.c and fs/netfs/iterator.c for one era (<see cref="Profile"/>). State is mutable folios and a
/// page table; gup flags are the era's numeric FOLL_* word. The kernel primitives are protected virtual so a
/// deliberately broken implementation (Fixtures/Broken) is a tiny subclass overriding one of them.
/// This file: construction, the era's FOLL_* numbers, command dispatch and the queries.
/// </summary>
public partial class KernelStyleImplementation : IGupImplementation
{
    // GUP_PIN_COUNTING_BIAS (include/linux/mm.h, v5.7+).
    protected const int GUP_PIN_COUNTING_BIAS = Sizes.GupPinCountingBias;

    protected const long PAGE_SIZE = Sizes.PageSize;
    protected const ulong PAGE_MASK = ~(ulong)(Sizes.PageSize - 1);

    // TASK_SIZE_MAX as the contract fixes it (x86-64 with 4-level page tables).
    protected const ulong TASK_SIZE_MAX = 0x7FFFFFFFF000UL;

    protected const long MAX_RW_COUNT = Sizes.MaxRwCount;

    // The era's FOLL_* numbers; 0 when the era has no such flag, so `flags & FOLL_X` is simply false.
    protected readonly long FOLL_WRITE;
    protected readonly long FOLL_TOUCH;
    protected readonly long FOLL_GET;
    protected readonly long FOLL_FORCE;
    protected readonly long FOLL_LONGTERM;
    protected readonly long FOLL_PCI_P2PDMA;
    protected readonly long FOLL_TRIED;
    protected readonly long FOLL_REMOTE;
    protected readonly long FOLL_PIN;
    protected readonly long FOLL_FAST_ONLY;
    protected readonly long FOLL_UNLOCKABLE;
    protected readonly long FOLL_MADV_POPULATE;

    private readonly Dictionary<int, PageArray> _calls = [];
    private readonly Dictionary<int, IovIter> _iters = [];
    private readonly Dictionary<int, Bio> _bios = [];
    private readonly Dictionary<int, FrameVector> _fvs = [];
    private readonly Dictionary<int, NetfsRequest> _netfs = [];

    public KernelStyleImplementation(Profile profile)
    {
        Profile = profile;
        Mm = new MmStruct();
        var t = profile.Flags;
        long V(Foll f) => t.Exists(f) ? t.ValueOf(f) : 0;
        FOLL_WRITE = V(Foll.Write);
        FOLL_TOUCH = V(Foll.Touch);
        FOLL_GET = V(Foll.Get);
        FOLL_FORCE = V(Foll.Force);
        FOLL_LONGTERM = V(Foll.LongTerm);
        FOLL_PCI_P2PDMA = V(Foll.PciP2pDma);
        FOLL_TRIED = V(Foll.Tried);
        FOLL_REMOTE = V(Foll.Remote);
        FOLL_PIN = V(Foll.Pin);
        FOLL_FAST_ONLY = V(Foll.FastOnly);
        FOLL_UNLOCKABLE = V(Foll.Unlockable);
        FOLL_MADV_POPULATE = V(Foll.MadvPopulate);
    }

    protected Profile Profile { get; }

    protected MmStruct Mm { get; }

    public void Dispose() => GC.SuppressFinalize(this);

    public Observation Execute(Command command) => command switch
    {
        MapRegion c => DoMapRegion(c),
        Gup c => DoGup(c),
        Release c => DoRelease(c),
        UnpinArray c => DoUnpinArray(c),
        FolioAddPin c => DoFolioAddPin(c),
        IterInit c => DoIterInit(c),
        IterExtract c => DoIterExtract(c),
        IterRetention c => DoIterRetention(c),
        BioAdd c => DoBioAdd(c),
        BioRelease c => DoBioRelease(c),
        FvCreate c => DoFvCreate(c),
        FvGet c => DoFvGet(c),
        FvPut c => DoFvPut(c),
        NetfsExtract c => DoNetfsExtract(c),
        NetfsFree c => DoNetfsFree(c),
        InspectFolio c => DoInspectFolio(c),
        ReadVmstat => DoReadVmstat(),
        InspectMm c => new Observation { HasPinned = Mm.HasPinned[c.Mm] },
        _ => throw new NotSupportedException($"unknown command {command.GetType().Name}"),
    };

    // ---- Memory -------------------------------------------------------------------------------------

    /// <summary>
    /// mmap() + populate: a VMA with its folios. Anon: Folios folios of Order at StartRefcount; Zero: every PTE
    /// maps the zero page; File: shared page-cache pages; Io / PfnMap: VM_IO / VM_PFNMAP with pfn-backed pages
    /// (they get struct pages too so an old frame vector that wrongly puts them is visible). Reports nothing.
    /// </summary>
    private Observation DoMapRegion(MapRegion c)
    {
        var order = c.Kind == RegionKind.Anon ? c.Order : 0;
        var flags = c.Kind switch
        {
            RegionKind.Anon or RegionKind.Zero => VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.Anonymous,
            RegionKind.File => VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED,
            RegionKind.Io => VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_IO,
            RegionKind.PfnMap => VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_PFNMAP,
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };

        var vma = new Vma(c.Region, c.Kind, c.Start, c.Folios, order, flags) { Mm = c.Mm, Movable = c.Movable };
        if (c.Kind != RegionKind.Zero)
        {
            for (long i = 0; i < c.Folios; i++)
            {
                Mm.NewFolio(vma, i, order, c.StartRefcount);
            }
        }

        Mm.InsertVma(vma);
        return new Observation();
    }

    /// <summary>
    /// do_anonymous_page() / wp_page_copy() on a PTE that maps the zero page (ZERO-WRITE-FAULT,
    /// ZERO-LONGTERM-UNSHARE): a fresh order-0 anonymous folio, refcount 1 for its mapping, replaces it.
    /// </summary>
    protected Folio FaultInZeroPte(Vma vma, long pageIndex) => Mm.NewFolio(vma, pageIndex, 0, 1);

    /// <summary>follow_page_pte() without faulting: the page an address maps right now.</summary>
    protected Page FollowPage(Vma vma, ulong addr)
    {
        var idx = vma.PageIndex(addr);
        var folioIndex = idx >> vma.Order;
        var folio = vma.Folios[folioIndex] ?? Mm.ZeroFolio;
        return new Page(folio, folio.IsZeroPfn ? 0 : idx & ((1L << vma.Order) - 1));
    }

    /// <summary>virt_to_page() of a kernel address (KVEC/BVEC/XARRAY segments always have a page).</summary>
    protected Page VirtToPage(ulong addr)
    {
        var vma = Mm.FindVma(addr) ?? throw new InvalidOperationException($"kernel address 0x{addr:x} has no page");
        return FollowPage(vma, addr);
    }

    // ---- Atomic helpers (atomic_t wraps: unchecked) -------------------------------------------------------

    protected static int FolioRefCount(Folio folio) => Volatile.Read(ref folio.RefCount);

    protected static void FolioRefAdd(Folio folio, int refs) => Interlocked.Add(ref folio.RefCount, refs);

    /// <summary>folio_put_refs(): the folio is never freed here (CONTRACT §1: it keeps being reported).</summary>
    protected static void FolioPutRefs(Folio folio, int refs) => Interlocked.Add(ref folio.RefCount, unchecked(-refs));

    protected static void FolioPinCountAdd(Folio folio, int refs) => Interlocked.Add(ref folio.PinCount, refs);

    // ---- Queries ------------------------------------------------------------------------------------------

    /// <summary>
    /// folio_ref_count(), the exact pin count where folio_has_pincount(), folio_maybe_dma_pinned() where the
    /// era has it, PG_dirty except on the zero page.
    /// </summary>
    private Observation DoInspectFolio(InspectFolio c)
    {
        var folio = Mm.LookupFolio(c.Folio);
        if (folio is null)
        {
            // A key that names no folio yet (e.g. an untouched Zero-region page): nothing to report.
            return new Observation();
        }

        return new Observation
        {
            Refcount = FolioRefCount(folio),
            Pincount = FolioHasPincount(folio) ? Volatile.Read(ref folio.PinCount) : null,
            MaybeDmaPinned = Profile.HasMaybeDmaPinned ? FolioMaybeDmaPinned(folio) : null,
            Dirty = folio.IsZeroPfn ? null : folio.Dirty,
        };
    }

    /// <summary>/proc/vmstat nr_foll_pin_acquired / nr_foll_pin_released (v5.7+).</summary>
    private Observation DoReadVmstat() => Profile.HasPinVmstat
        ? new Observation
        {
            Acquired = Interlocked.Read(ref Mm.NrFollPinAcquired),
            Released = Interlocked.Read(ref Mm.NrFollPinReleased),
        }
        : new Observation();

    // ---- Pages arrays remembered by call id ---------------------------------------------------------------

    protected void RememberCall(int call, PageArray pages) => _calls[call] = pages;

    protected PageArray CallArray(int call) => _calls.TryGetValue(call, out var a)
        ? a
        : throw new InvalidOperationException($"no pages array {call}");

    protected static Observation Done() => new() { Result = 0 };
}
