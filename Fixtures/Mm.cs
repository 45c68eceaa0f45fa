using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// struct folio, reduced to what pin/ref accounting touches. The refcount is an atomic_t: it is only ever
/// changed through <see cref="Interlocked"/> and wraps like the kernel's (OVF-NO-SATURATION). The pin count
/// field exists on every object, but it is meaningful only when folio_has_pincount() says the era keeps an
/// exact count for this folio (decided in one place: KernelStyleImplementation.FolioHasPincount).
/// </summary>
public sealed class Folio
{
    /// <summary>_refcount (atomic_t).</summary>
    internal int RefCount;

    /// <summary>_pincount (atomic_t), or hpage_pinned_refcount / compound_pincount in older eras.</summary>
    internal int PinCount;

    public Folio(string key, int order, int refcount, Vma? region, long index, bool isZero = false)
    {
        Key = key;
        Order = order;
        RefCount = refcount;
        Region = region;
        Index = index;
        IsZeroPfn = isZero;
    }

    /// <summary>The contract's folio key: r{R}.f{i} or zero.</summary>
    public string Key { get; }

    public int Order { get; }

    /// <summary>PG_dirty.</summary>
    public bool Dirty { get; set; }

    /// <summary>The region whose physically contiguous folio array holds this folio (null for the zero page).</summary>
    public Vma? Region { get; }

    /// <summary>Index of this folio in its region's folio array (its physical position).</summary>
    public long Index { get; }

    /// <summary>In ZONE_MOVABLE or a MIGRATE_CMA pageblock: not folio_is_longterm_pinnable().</summary>
    public bool Movable { get; init; }

    /// <summary>is_zero_pfn(): set only on the shared zero page.</summary>
    public bool IsZeroPfn { get; }

    public long NrPages => 1L << Order;

    public override string ToString() => Key;
}

/// <summary>A struct page *: a folio and the index of the page inside it.</summary>
public readonly record struct Page(Folio Folio, long Index);

/// <summary>Consecutive entries of a pages array that are consecutive pages First.. of one folio.</summary>
public readonly record struct PageSpan(Folio Folio, long First, long Count);

/// <summary>How the entries of a pages array are held by the caller.</summary>
public enum HoldKind
{
    None,
    Ref,
    Pin,
}

/// <summary>
/// A struct page *pages[] array kept as spans, so that a GUP over the 262144 pages of an order-18 folio
/// costs one span, not 262144 objects. Like the kernel's array it does not know how its pages are held: the
/// caller does, from the flags it passed (and releases with the matching call).
/// </summary>
public sealed class PageArray
{
    private readonly List<PageSpan> _spans = [];

    public long Length { get; private set; }

    public IReadOnlyList<PageSpan> Spans => _spans;

    /// <summary>pages[Length++] = page.</summary>
    public void Add(Page page) => AddSpan(new PageSpan(page.Folio, page.Index, 1));

    /// <summary>Forgets every entry (the array is given back, as kvfree() does).</summary>
    public void Clear()
    {
        _spans.Clear();
        Length = 0;
    }

    public void AddSpan(PageSpan span)
    {
        if (span.Count <= 0)
        {
            return;
        }

        if (_spans.Count > 0)
        {
            var last = _spans[^1];
            if (ReferenceEquals(last.Folio, span.Folio) && last.First + last.Count == span.First)
            {
                _spans[^1] = last with { Count = last.Count + span.Count };
                Length += span.Count;
                return;
            }
        }

        _spans.Add(span);
        Length += span.Count;
    }

    public void AddRange(PageArray other, long index, long count)
    {
        foreach (var s in other.Slice(index, count))
        {
            AddSpan(s);
        }
    }

    public Page this[long index]
    {
        get
        {
            foreach (var s in Slice(index, 1))
            {
                return new Page(s.Folio, s.First);
            }

            throw new ArgumentOutOfRangeException(nameof(index));
        }
    }

    /// <summary>The entries [index, index + count) as spans, in array order.</summary>
    public IEnumerable<PageSpan> Slice(long index, long count)
    {
        if (index < 0 || count < 0 || index + count > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"entries [{index}, {index + count}) of an array of {Length}");
        }

        long pos = 0;
        var end = index + count;
        foreach (var s in _spans)
        {
            var sEnd = pos + s.Count;
            if (sEnd > index && pos < end)
            {
                var from = Math.Max(pos, index);
                var to = Math.Min(sEnd, end);
                yield return new PageSpan(s.Folio, s.First + (from - pos), to - from);
            }

            if (sEnd >= end)
            {
                yield break;
            }

            pos = sEnd;
        }
    }

    public IReadOnlyList<PageRun> ToRuns() =>
        PageRuns.Canonical(_spans.Select(s => new PageRun(s.Folio.Key, s.First, s.Count)));
}

/// <summary>vm_flags bits this model needs.</summary>
[Flags]
public enum VmFlags
{
    None = 0,
    VM_READ = 1 << 0,
    VM_WRITE = 1 << 1,
    VM_SHARED = 1 << 3,
    VM_IO = 1 << 14,
    VM_PFNMAP = 1 << 10,

    /// <summary>Not a kernel vm_flag: marks the anonymous (vma_is_anonymous()) mappings.</summary>
    Anonymous = 1 << 30,
}

/// <summary>
/// A VMA and its page table: the region base plus a physically contiguous folio array. Page i of the
/// region is page (i &amp; mask) of folio (i &gt;&gt; order). A Zero region's slots stay null (the PTE maps the zero
/// page) until a write or unshare fault installs a fresh order-0 folio.
/// </summary>
public sealed class Vma
{
    public Vma(int id, RegionKind kind, ulong start, long nrFolios, int order, VmFlags flags)
    {
        Id = id;
        Kind = kind;
        VmStart = start;
        Order = order;
        Flags = flags;
        Folios = new Folio?[nrFolios];
        VmEnd = start + (ulong)((nrFolios << order) * Sizes.PageSize);
    }

    public int Id { get; }

    public RegionKind Kind { get; }

    public ulong VmStart { get; }

    public ulong VmEnd { get; }

    public int Order { get; }

    public VmFlags Flags { get; }

    public Folio?[] Folios { get; }

    /// <summary>
    /// File and zero-page mappings: the pages a write fault made writable. The rest are mapped read-only (a clean
    /// file page, for dirty tracking; the zero page; a page an unsharing fault put there).
    /// </summary>
    public HashSet<long> WriteMapped { get; } = [];

    /// <summary>The address space the VMA belongs to: 0 the caller's, 1 the second one.</summary>
    public int Mm { get; init; }

    /// <summary>Its folios were allocated in a movable area (ZONE_MOVABLE / CMA).</summary>
    public bool Movable { get; init; }

    public bool Contains(ulong addr) => addr >= VmStart && addr < VmEnd;

    /// <summary>Page index of an address inside the region.</summary>
    public long PageIndex(ulong addr) => (long)((addr - VmStart) >> Sizes.PageShift);
}

/// <summary>
/// struct mm_struct plus the bits of global state this model needs: the VMAs, a folio registry by key for
/// inspections, the shared zero page and the node vmstat items.
/// </summary>
public sealed class MmStruct
{
    private readonly List<Vma> _vmas = [];
    private readonly Dictionary<string, Folio> _folios = new(StringComparer.Ordinal);
    private Vma? _cache;

    public MmStruct()
    {
        ZeroFolio = new Folio("zero", 0, 1, null, 0, isZero: true);
        _folios[ZeroFolio.Key] = ZeroFolio;
    }

    /// <summary>The shared zero page (ZERO_PAGE(0)): order 0, refcount 1 at the start of a run.</summary>
    public Folio ZeroFolio { get; }

    /// <summary>NR_FOLL_PIN_ACQUIRED.</summary>
    internal long NrFollPinAcquired;

    /// <summary>NR_FOLL_PIN_RELEASED.</summary>
    internal long NrFollPinReleased;

    /// <summary>MMF_HAS_PINNED of each address space (0 the caller's, 1 the second): set, never cleared.</summary>
    internal readonly bool[] HasPinned = new bool[2];

    public IReadOnlyList<Vma> Vmas => _vmas;

    public void InsertVma(Vma vma)
    {
        _vmas.Add(vma);
        _vmas.Sort((a, b) => a.VmStart.CompareTo(b.VmStart));
    }

    /// <summary>find_vma_intersection(mm, addr, addr + 1) in address space <paramref name="mm"/>: the VMA containing addr, or null for a hole.</summary>
    public Vma? FindVma(ulong addr, int mm = 0)
    {
        // Walks usually stay in one VMA for many pages: remember the last hit like the kernel's vma cache.
        if (_cache is not null && _cache.Mm == mm && _cache.Contains(addr))
        {
            return _cache;
        }

        foreach (var v in _vmas)
        {
            if (v.Mm == mm && v.Contains(addr))
            {
                _cache = v;
                return v;
            }
        }

        return null;
    }

    public Folio NewFolio(Vma vma, long index, int order, int refcount)
    {
        var folio = new Folio(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"r{vma.Id}.f{index}"), order, refcount, vma, index)
        {
            Movable = vma.Movable,
        };
        vma.Folios[index] = folio;
        _folios[folio.Key] = folio;
        return folio;
    }

    /// <summary>
    /// migrate_pages() of one isolated folio that succeeded: a new folio from a non-movable zone (alloc_migration_target()
    /// under memalloc_pin_save()) takes its place in the page table under the same key, refcount 1 for the mapping, the
    /// dirty flag moved (folio_migrate_flags()); the old folio is freed.
    /// </summary>
    public Folio MigrateFolio(Folio old)
    {
        var region = old.Region ?? throw new InvalidOperationException("the zero page is never migrated");
        var folio = new Folio(old.Key, old.Order, 1, region, old.Index) { Dirty = old.Dirty };
        region.Folios[old.Index] = folio;
        _folios[folio.Key] = folio;
        return folio;
    }

    public Folio? LookupFolio(string key) => _folios.TryGetValue(key, out var f) ? f : null;
}
