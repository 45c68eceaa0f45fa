using System.Text.Json.Serialization;

namespace GupConformance.Spec;

/// <summary>
/// One step of a conformance run, as plain immutable data. The same records serve generated runs, traces,
/// the process protocol and reproducers. Ids (region, call, iter, bio, fv, netfs) are chosen by the caller
/// and are unique within one run; a command that names an id refers to what an earlier command created.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(MapRegion), "map")]
[JsonDerivedType(typeof(Gup), "gup")]
[JsonDerivedType(typeof(Release), "release")]
[JsonDerivedType(typeof(FolioAddPin), "folio_add_pin")]
[JsonDerivedType(typeof(UnpinArray), "unpin_array")]
[JsonDerivedType(typeof(IterInit), "iter_init")]
[JsonDerivedType(typeof(IterExtract), "iter_extract")]
[JsonDerivedType(typeof(IterRetention), "iter_retention")]
[JsonDerivedType(typeof(BioAdd), "bio_add")]
[JsonDerivedType(typeof(BioRelease), "bio_release")]
[JsonDerivedType(typeof(FvCreate), "fv_create")]
[JsonDerivedType(typeof(FvGet), "fv_get")]
[JsonDerivedType(typeof(FvPut), "fv_put")]
[JsonDerivedType(typeof(NetfsExtract), "netfs_extract")]
[JsonDerivedType(typeof(NetfsFree), "netfs_free")]
[JsonDerivedType(typeof(InspectFolio), "inspect_folio")]
[JsonDerivedType(typeof(ReadVmstat), "read_vmstat")]
[JsonDerivedType(typeof(InspectMm), "inspect_mm")]
[JsonDerivedType(typeof(Live.LiveMap), "live_map")]
[JsonDerivedType(typeof(Live.LiveTouch), "live_touch")]
[JsonDerivedType(typeof(Live.LiveUnmap), "live_unmap")]
[JsonDerivedType(typeof(Live.LiveRingSetup), "live_ring_setup")]
[JsonDerivedType(typeof(Live.LiveRingClose), "live_ring_close")]
[JsonDerivedType(typeof(Live.LiveRegister), "live_register")]
[JsonDerivedType(typeof(Live.LiveUnregister), "live_unregister")]
[JsonDerivedType(typeof(Live.LiveDirectIo), "live_direct_io")]
[JsonDerivedType(typeof(Live.LiveBufferedIo), "live_buffered_io")]
[JsonDerivedType(typeof(Live.LivePipeOpen), "live_pipe_open")]
[JsonDerivedType(typeof(Live.LiveVmsplice), "live_vmsplice")]
[JsonDerivedType(typeof(Live.LivePipeClose), "live_pipe_close")]
[JsonDerivedType(typeof(Live.LiveProcessVm), "live_process_vm")]
[JsonDerivedType(typeof(Live.LiveFork), "live_fork")]
[JsonDerivedType(typeof(Live.LiveThreshold), "live_threshold")]
[JsonDerivedType(typeof(Live.LiveInspect), "live_inspect")]
public abstract record Command
{
    /// <summary>The facets that make this command meaningful: an implementation is given the command only if its
    /// manifest declares at least one of them.</summary>
    [JsonIgnore]
    public abstract Facet Needs { get; }

    /// <summary>True for commands that only look (inspections); they never change state.</summary>
    [JsonIgnore]
    public virtual bool IsQuery => false;
}

/// <summary>
/// Map <paramref name="Folios"/> folios of order <paramref name="Order"/> at <paramref name="Start"/> (page aligned).
/// Anon regions hold folios keyed <c>r{Region}.f{i}</c>, each starting at refcount <paramref name="StartRefcount"/>
/// (1 = mapped once and otherwise idle; a high value sets up the overflow neighbourhood). Zero, File, Io and
/// PfnMap regions hold order-0 pages, <paramref name="Folios"/> of them. Zero regions map the shared zero page
/// (key <c>zero</c>) at every page until a write fault replaces page i by folio <c>r{Region}.f{i}</c>.
/// Addresses outside every region are holes. <paramref name="Mm"/> 1 maps the region in the second address space
/// (<see cref="Facet.RemoteMm"/>), which only the *_remote entry points walk; addresses are unique across both.
/// <paramref name="Movable"/> puts an Anon region's order-0 folios in a movable area (ZONE_MOVABLE, or a MIGRATE_CMA
/// pageblock: the same to GUP from v5.13), so a FOLL_LONGTERM pin migrates them first (<see cref="Facet.LongtermMigration"/>);
/// the page at that address is then a new folio under the same key r{Region}.f{i}, no longer movable.
/// </summary>
public sealed record MapRegion(int Region, RegionKind Kind, ulong Start, int Folios, int Order = 0, int StartRefcount = 1, int Mm = 0, bool Movable = false) : Command
{
    public override Facet Needs => Movable ? Facet.LongtermMigration : Mm != 0 ? Facet.RemoteMm : Kind == RegionKind.Zero ? Facet.ZeroPage : Order > 0 ? Facet.LargeFolios : Facet.Core;

    public long Pages => (long)Folios << Order;

    public ulong End => Start + (ulong)(Pages * Sizes.PageSize);
}

/// <summary>
/// Call <paramref name="Entry"/>(start, nr_pages, gup_flags, pages) with the caller's flags (FOLL_PIN/FOLL_GET
/// set by the entry point itself are not included unless the caller passes them). <paramref name="WithPages"/>
/// false passes pages = NULL. The returned entries are remembered as pages array <paramref name="Call"/>.
/// <paramref name="Mm"/> is the address space a *_remote entry point is given (0 the caller's own, 1 the second one,
/// <see cref="Facet.RemoteMm"/>); every other entry point walks the caller's (current-&gt;mm), so its Mm is 0.
/// </summary>
public sealed record Gup(int Call, EntryPoint Entry, ulong Start, long NrPages, Foll Flags, bool WithPages = true, int Mm = 0, int? Locked = null) : Command
{
    /// <summary>The *_remote calls' <c>int *locked</c>: null passes NULL, a value passes a pointer to it (the caller
    /// holds mmap_lock; 1 is the only value the kernel accepts). Only with the RemoteMm facet, like the second mm.</summary>
    public override Facet Needs => Mm != 0 || Locked is not null ? Facet.RemoteMm : Facet.Core;
}

/// <summary>
/// Release entries [Index, Index+Count) of pages array <paramref name="Call"/> with <paramref name="Fn"/>
/// (make_dirty applies to the *_dirty_lock calls). Each entry is released at most once.
/// </summary>
public sealed record Release(int Call, ReleaseFn Fn, int Index, int Count, bool MakeDirty = false) : Command
{
    public override Facet Needs => Facet.Core;
}

/// <summary>
/// <paramref name="Fn"/> (unpin_user_pages or unpin_user_pages_dirty_lock) on an array the caller built:
/// <paramref name="NullPrefix"/> NULL pointers followed by entries [Index, Index+Count) of array <paramref name="Call"/>,
/// with npages = NullPrefix + Count, or, when <paramref name="Errno"/> is not 0, npages = (unsigned long)-Errno — what
/// a caller passes when it hands on a GUP error as the count.
/// </summary>
public sealed record UnpinArray(int Call, ReleaseFn Fn, int Index, int Count, int NullPrefix = 0, int Errno = 0, bool MakeDirty = false) : Command
{
    public override Facet Needs => Facet.ReleaseArguments;
}

/// <summary>folio_add_pin() on the folio of entry <paramref name="Index"/> of array <paramref name="FromCall"/>
/// (v6.5+); the extra pin is remembered as a one-entry pages array <paramref name="NewCall"/>.</summary>
public sealed record FolioAddPin(int NewCall, int FromCall, int Index) : Command
{
    public override Facet Needs => Facet.Core;
}

/// <summary>One iovec / kvec / bvec: a byte range of the address space.</summary>
public sealed record IterSeg(ulong Addr, long Len);

/// <summary>Build iterator <paramref name="Iter"/> over the segments (UBUF takes exactly one).</summary>
public sealed record IterInit(int Iter, IterKind Kind, IterDir Dir, IReadOnlyList<IterSeg> Segs) : Command
{
    // Iterators feed extraction, bios and netfs alike.
    public override Facet Needs => Facet.IovIter | Facet.Bio | Facet.Netfs;

    public bool Equals(IterInit? other) => other is not null && Iter == other.Iter && Kind == other.Kind
        && Dir == other.Dir && Segs.SequenceEqual(other.Segs);

    public override int GetHashCode() => HashCode.Combine(Iter, Kind, Dir, Segs.Count);
}

/// <summary>iov_iter_extract_pages(iter, &amp;pages, maxsize, maxpages, 0, &amp;offset0) with a NULL *pages (the
/// function allocates); the entries are remembered as pages array <paramref name="Call"/>. With
/// <paramref name="AllocFails"/> the allocation of that array (want_pages_array()'s kvmalloc_array()) fails: an
/// injected fault, given only to implementations that declare <see cref="Facet.AllocFailure"/>.</summary>
public sealed record IterExtract(int Call, int Iter, long MaxSize, int MaxPages, bool AllocFails = false) : Command
{
    public override Facet Needs => AllocFails ? Facet.AllocFailure : Facet.IovIter;
}

/// <summary>The retention query: iov_iter_extract_will_pin() (merged) or iov_iter_extract_mode() (RFC, v8).</summary>
public sealed record IterRetention(int Iter) : Command
{
    public override Facet Needs => Facet.IovIter;

    public override bool IsQuery => true;
}

/// <summary>bio_iov_iter_get_pages() into bio <paramref name="Bio"/> (created empty on first use) until the
/// iterator is empty or the bio holds <paramref name="MaxVecs"/> bvecs, on a block device whose logical block size is
/// <paramref name="LogicalBlockSize"/> (512, 1024, 2048 or 4096: bdev_logical_block_size()).</summary>
public sealed record BioAdd(int Bio, int Iter, int MaxVecs, int LogicalBlockSize = 512) : Command
{
    public override Facet Needs => Facet.Bio;
}

/// <summary>bio_release_pages(bio, mark_dirty), then the bio is gone.</summary>
public sealed record BioRelease(int Bio, bool MarkDirty) : Command
{
    public override Facet Needs => Facet.Bio;
}

/// <summary>frame_vector_create(nr_allocated) / pfns_vector_create().</summary>
public sealed record FvCreate(int Fv, int NrAllocated) : Command
{
    public override Facet Needs => Facet.FrameVector;
}

/// <summary>get_vaddr_frames(start, nr_frames, write, vec) / get_vaddr_pfns().</summary>
public sealed record FvGet(int Fv, ulong Start, int NrFrames, bool Write) : Command
{
    public override Facet Needs => Facet.FrameVector;
}

/// <summary>put_vaddr_frames(vec) / put_vaddr_pfns().</summary>
public sealed record FvPut(int Fv) : Command
{
    public override Facet Needs => Facet.FrameVector;
}

/// <summary>netfs_extract_user_iter(iter, len, &amp;new, 0) into request <paramref name="Netfs"/>; the caller records
/// iov_iter_extract_will_pin() of the original iterator first, as netfs does.</summary>
public sealed record NetfsExtract(int Netfs, int Iter, long MaxSize) : Command
{
    public override Facet Needs => Facet.Netfs;
}

/// <summary>netfs_free_request(): unpin the BVEC pages if the recorded answer says so.</summary>
public sealed record NetfsFree(int Netfs) : Command
{
    public override Facet Needs => Facet.Netfs;
}

/// <summary>Report one folio's refcount, exact pin count (if the era has one for it), maybe-dma-pinned and dirty.</summary>
public sealed record InspectFolio(string Folio) : Command
{
    public override Facet Needs => Facet.Core;

    public override bool IsQuery => true;
}

/// <summary>Report whether address space <paramref name="Mm"/> (0 the caller's, 1 the second) has MMF_HAS_PINNED set.</summary>
public sealed record InspectMm(int Mm) : Command
{
    public override Facet Needs => Facet.RemoteMm;

    public override bool IsQuery => true;
}

/// <summary>Report nr_foll_pin_acquired and nr_foll_pin_released (both start at 0 in a run).</summary>
public sealed record ReadVmstat() : Command
{
    public override Facet Needs => Facet.Core;

    public override bool IsQuery => true;
}
