using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// GupModel.Precondition: every validity condition of CONTRACT.md — ids, released entries, the era's entry points
/// and flags, combinations Linux leaves undefined (VM_BUG_ON) or the model does not cover, region and iterator
/// shapes, bio and frame vector rules, and the profile's facets. Null means valid.
/// </summary>
internal static class Validity
{
    public static string? Check(ModelState s, Command command)
    {
        var p = s.Profile;
        if ((command.Needs & p.Facets) == 0)
        {
            return $"needs facet {command.Needs}, the profile offers {p.Facets}";
        }

        return command switch
        {
            MapRegion c => Map(s, c),
            Gup c => Gup(s, c),
            Release c => Release(s, c),
            UnpinArray c => UnpinArray(s, c),
            FolioAddPin c => AddPin(s, c),
            IterInit c => IterInit(s, c),
            IterExtract c => s.ArrayMap.ContainsKey(c.Call) ? "duplicate call id"
                : !s.IterMap.ContainsKey(c.Iter) ? "unknown iterator"
                : c.MaxPages < 1 ? "maxpages must be >= 1"
                : c.MaxSize < 0 ? "negative maxsize" : null,
            IterRetention c => s.IterMap.ContainsKey(c.Iter) ? null : "unknown iterator",
            BioAdd c => BioAdd(s, c),
            BioRelease c => s.BioMap.ContainsKey(c.Bio) ? null : "no such live bio",
            FvCreate c => s.FvMap.ContainsKey(c.Fv) ? "duplicate frame vector id"
                : c.NrAllocated is < 1 or > 64 ? "nr_allocated must be 1..64" : null,
            FvGet c when p.MigratesLongtermMovable && LongtermMigration.FirstMovable(s.RegionList, c.Start & ~(ulong)(Sizes.PageSize - 1), Math.Max(c.NrFrames, 1)) is not null =>
                "a frame vector over a movable page (its long-term pin would migrate it) is not modelled",
            FvGet c => !s.FvMap.TryGetValue(c.Fv, out var fv) ? "unknown frame vector"
                : c.NrFrames < 0 ? "negative nr_frames"
                : fv.NrFrames != 0 ? "frame vector already holds frames (put it first)" : null,
            FvPut c => s.FvMap.ContainsKey(c.Fv) ? null : "unknown frame vector",
            NetfsExtract c => !p.HasNetfs ? "no netfs_extract_user_iter() in this era"
                : s.UsedNetfs.Contains(c.Netfs) ? "duplicate netfs request id"
                : !s.IterMap.ContainsKey(c.Iter) ? "unknown iterator"
                : c.MaxSize < 0 ? "negative len" : null,
            NetfsFree c => s.NetfsMap.ContainsKey(c.Netfs) ? null : "no such live netfs request",
            InspectFolio c => s.HasFolio(c.Folio) ? null : $"no folio {c.Folio}",
            ReadVmstat => p.HasPinVmstat ? null : "no nr_foll_pin_* counters in this era",
            InspectMm c => !p.HasMmPinnedFlag ? "no MMF_HAS_PINNED in this era"
                : c.Mm is not (0 or 1) ? "mm must be 0 or 1" : null,
            _ => "unknown command",
        };
    }

    private static string? Map(ModelState s, MapRegion c)
    {
        if (s.RegionById(c.Region) is not null)
        {
            return "duplicate region id";
        }

        if (c.Folios < 1 || c.Order is < 0 or > Sizes.MaxOrder)
        {
            return "folios must be >= 1 and order 0..18";
        }

        if (c.Kind != RegionKind.Anon && (c.Order != 0 || c.StartRefcount != 1))
        {
            return "only Anon regions have large folios or a chosen start refcount";
        }

        if (c.Start % (ulong)Sizes.PageSize != 0)
        {
            return "start not page aligned";
        }

        if (c.Mm is not (0 or 1))
        {
            return "mm must be 0 (the caller's) or 1 (the second address space)";
        }

        if (c.Movable && (c.Kind != RegionKind.Anon || c.Order != 0 || c.Mm != 0 || !s.Profile.MigratesLongtermMovable))
        {
            // Large folios (THP migration, split on failure; hugetlb isolation) and the CMA-only era before v5.13 are
            // not modelled (CONTRACT §10).
            return "only order-0 Anon regions of the caller's address space are movable, from v5.13";
        }

        var end = (UInt128)c.Start + ((UInt128)(ulong)c.Pages * (ulong)Sizes.PageSize);
        if (end > GupCore.TaskSizeMax)
        {
            return "region ends beyond TASK_SIZE_MAX";
        }

        return s.RegionList.Any(r => c.Start < r.End && r.Start < (ulong)end) ? "region overlaps another" : null;
    }

    private static string? Gup(ModelState s, Gup c)
    {
        var p = s.Profile;
        if (s.ArrayMap.ContainsKey(c.Call))
        {
            return "duplicate call id";
        }

        if (!p.EntryPoints.Contains(c.Entry))
        {
            return $"{c.Entry.KernelName()} does not exist in this era";
        }

        var flags = FollExtensions.Each;
        for (var i = 0; i < flags.Count; i++)
        {
            if (c.Flags.Has(flags[i]) && !p.Flags.Exists(flags[i]))
            {
                return $"{FollExtensions.KernelName(flags[i])} does not exist in this era";
            }
        }

        if (c.Start % (ulong)Sizes.PageSize != 0 || c.NrPages < 1)
        {
            return "start must be page aligned and nr_pages >= 1";
        }

        if (c.Entry.IsFast() && c.NrPages > int.MaxValue)
        {
            return "the fast entry points take an int nr_pages";
        }

        if (c.Mm != 0 && !GupCore.IsRemote(c.Entry))
        {
            return "only the *_remote entry points are given an address space; the others walk the caller's (mm 0)";
        }

        if (c.Mm is not (0 or 1))
        {
            return "mm must be 0 (the caller's) or 1 (the second address space)";
        }

        if (c.Locked is { } locked)
        {
            if (!GupCore.IsRemote(c.Entry))
            {
                return "only the *_remote entry points take a locked argument";
            }

            if (!p.HasMmPinnedFlag)
            {
                return "the locked argument is checked with the RemoteMm facet (profiles from 5.19)";
            }

            if (locked is not (0 or 1))
            {
                return "*locked is 0 or 1";
            }

            if (locked != 1 && !p.HasValidGupArgs)
            {
                // __get_user_pages_locked(): BUG_ON(*locked != 1) before v6.3 (mm/gup.c of 6.1.192).
                return "before v6.3 a *locked other than 1 is a BUG_ON() in __get_user_pages_locked(), not a result";
            }
        }

        var legacy = !p.HasValidGupArgs;
        if (legacy && (c.Flags & GupCore.LegacyInternal) != 0)
        {
            return "caller-passed internal flags before v6.3 are not modelled";
        }

        if (legacy && GupCore.IsFastOnly(c.Entry) && c.Flags.Any(Foll.Pin | Foll.Get))
        {
            return "caller-passed FOLL_PIN/FOLL_GET on *_fast_only before v6.3 is not modelled";
        }

        var adm = GupCore.Admit(p, c.Entry, c.Start, c.NrPages, c.Flags, c.WithPages);
        if (p.Validation == ValidationScheme.PrePin && adm.Refused)
        {
            return "the 2015 fast path took only `write`: flag or range probes are not modelled";
        }

        if (adm.Refused)
        {
            return null;
        }

        var eff = adm.Effective;
        if (eff.Has(Foll.Pin) && eff.Has(Foll.Get))
        {
            return "FOLL_PIN with FOLL_GET reaching the walk is undefined";
        }

        if (legacy && eff.Any(Foll.Pin | Foll.Get) && !c.WithPages)
        {
            return "FOLL_GET/FOLL_PIN without pages before v6.3 is a VM_BUG_ON";
        }

        if ((eff & GupCore.Unmodelled) != 0)
        {
            return $"{(eff & GupCore.Unmodelled).Render()} reaching the walk is not modelled";
        }

        if (c.Entry.IsFast() && GupCore.RefusesLongTermP2pAtVma(p, eff))
        {
            return "v6.2 GUP-fast pins what its lockless walk reaches before the slow path refuses a long-term P2PDMA pin; "
                + "how far that is depends on PTE state the model does not track";
        }

        if (p.MigratesLongtermMovable && eff.Has(Foll.Pin | Foll.LongTerm) && c.Entry.IsFast()
            && LongtermMigration.FirstMovable(s.RegionList, c.Start, c.NrPages, c.Mm) is { } movable
            && MovableFastCall(s, c, movable) is { } why)
        {
            return why;
        }

        if (GupCore.IsFastOnly(c.Entry) && CoversZeroPage(s, c.Start, c.NrPages))
        {
            return "GUP-fast-only never faults nor grabs the zero page (special PTE): not modelled";
        }

        if (GupCore.IsFastOnly(c.Entry) && eff.Has(Foll.Write) && CoversReadOnlyPte(s, c.Start, c.NrPages))
        {
            return "GUP-fast-only never faults: a FOLL_WRITE call over a read-only PTE (a clean file page, an unshared page) is not modelled";
        }

        return null;
    }

    /// <summary>
    /// A long-term GUP-fast pin over a movable page (CONTRACT §3 item 8): the model knows what the lockless walk took before
    /// that page only when every page before it is a plain Anon page (present, writable, exclusive) far from overflow,
    /// which GUP-fast takes as the slow walk would; *_fast_only, which stops at the movable page without falling back,
    /// is not modelled either.
    /// </summary>
    private static string? MovableFastCall(ModelState s, Gup c, long movable)
    {
        if (GupCore.IsFastOnly(c.Entry))
        {
            return "a long-term *_fast_only pin over a movable page (it stops there, never migrating) is not modelled";
        }

        for (long i = 0; i < movable; i++)
        {
            var addr = c.Start + ((ulong)i * (ulong)Sizes.PageSize);
            var r = s.RegionAt(addr, c.Mm);
            if (r is null || r.Kind != RegionKind.Anon)
            {
                return "a long-term GUP-fast pin over a movable page is modelled only when every page before it is an Anon page";
            }

            var key = RegionState.FolioKey(r.Id, (long)((addr - r.Start) / (ulong)Sizes.PageSize) >> r.Order);
            if (s.FindFolio(key) is not { Refcount: > 0 and < 1 << 30 })
            {
                return "a long-term GUP-fast pin over a movable page after a folio near overflow is not modelled";
            }
        }

        return null;
    }

    /// <summary>Whether [start, start + n pages) covers a File or faulted Zero-region page whose PTE is read-only.</summary>
    private static bool CoversReadOnlyPte(ModelState s, ulong start, long n)
    {
        var end = (UInt128)start + ((UInt128)(ulong)n * (ulong)Sizes.PageSize);
        foreach (var r in s.RegionList.Where(r => r.Mm == 0 && r.Kind is RegionKind.File or RegionKind.Zero && r.Start < end && start < r.End))
        {
            var lo = start > r.Start ? (long)((start - r.Start) / (ulong)Sizes.PageSize) : 0;
            var hi = end < r.End ? (long)(((ulong)end - r.Start) / (ulong)Sizes.PageSize) : r.Pages;
            for (var page = lo; page < hi; page++)
            {
                if (!r.WriteMapped.Contains(page))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether [start, start + n pages) covers a Zero-region page still mapping the zero page.</summary>
    private static bool CoversZeroPage(ModelState s, ulong start, long n)
    {
        var end = (UInt128)start + ((UInt128)(ulong)n * (ulong)Sizes.PageSize);
        foreach (var r in s.RegionList.Where(r => r.Mm == 0 && r.Kind == RegionKind.Zero && r.Start < end && start < r.End))
        {
            var lo = start > r.Start ? (long)((start - r.Start) / (ulong)Sizes.PageSize) : 0;
            var hi = end < r.End ? (long)(((ulong)end - r.Start) / (ulong)Sizes.PageSize) : r.Pages;
            if (hi - lo > r.Faulted.Count(x => x >= lo && x < hi))
            {
                return true;
            }
        }

        return false;
    }

    private static string? Release(ModelState s, Release c)
    {
        var p = s.Profile;
        if (!s.ArrayMap.TryGetValue(c.Call, out var array))
        {
            return "unknown call id";
        }

        if (c.Fn != ReleaseFn.PutPage && p.Pins == PinScheme.NoPins)
        {
            return "no unpin_* before FOLL_PIN";
        }

        if (c.Fn == ReleaseFn.UnpinUserPageRangeDirtyLock && p.Version < 512)
        {
            return "unpin_user_page_range_dirty_lock() first appeared in v5.12";
        }

        if (c.Index < 0 || c.Count < 1 || c.Index + (long)c.Count > array.Entries)
        {
            return "entries out of range";
        }

        var (_, affected) = ReleaseStep.MarkReleased(array.Runs, c.Index, c.Count);
        if (affected.Any(r => r.Released))
        {
            return "an entry was already released";
        }

        if (affected.Any(r => r.Hold == Hold.None))
        {
            return "an entry holds nothing to release";
        }

        // An era that does not pin the zero page took no reference for a pinned zero entry, so put_page() on it
        // takes one the caller never had; at the last one the kernel frees the shared zero page (a "Bad page state"
        // report, then a negative refcount). Nothing after that is defined, so the model stops before it.
        var zeroPuts = c.Fn == ReleaseFn.PutPage ? affected.Where(r => r.Folio == FolioState.ZeroKey).Sum(r => r.Count) : 0;
        if (zeroPuts > 0 && s.FindFolio(FolioState.ZeroKey) is { } zero && zero.Refcount - zeroPuts < 1)
        {
            return "put_page() would drop the shared zero page's last reference (the kernel frees it; not modelled)";
        }

        if (FreesAFolio(s, c.Fn, affected) is { } freed)
        {
            return freed;
        }

        return c.Fn == ReleaseFn.UnpinUserPageRangeDirtyLock && !PhysicallyContiguous(s, affected)
            ? "the range must be physically contiguous pages of one Anon region"
            : null;
    }

    /// <summary>
    /// A release that brings a folio's refcount to exactly zero: only a misuse release can (an unpin of a referenced
    /// entry takes a pin's 1024 where one reference was added, REL-MISUSE-UNPIN-REFFED), and then folio_put_refs()'s
    /// folio_ref_sub_and_test() frees the folio under its mapping; what follows is a use after free. A real 6.12 kernel
    /// showed it: the freed page came back clean. Each subtraction is one page for put_page() and unpin_user_page(), one
    /// run of a folio for the batched unpins; a subtraction that jumps past zero frees nothing (the refcount is then
    /// negative, as after a wrap-around, OVF-*).
    /// </summary>
    private static string? FreesAFolio(ModelState s, ReleaseFn fn, IEnumerable<EntryRun> affected)
    {
        var now = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in affected.Where(r => r.Folio != FolioState.ZeroKey))
        {
            if (s.FindFolio(r.Folio) is not { } f)
            {
                continue;
            }

            var refcount = now.TryGetValue(r.Folio, out var v) ? v : f.Refcount;
            var unit = fn == ReleaseFn.PutPage ? 1 : FolioOps.PinUnit(FolioOps.KindOf(s.Profile, f));
            var perPage = fn is ReleaseFn.PutPage or ReleaseFn.UnpinUserPage;
            var (steps, size) = perPage ? (r.Count, (long)unit) : (1L, r.Count * unit);
            for (var i = 0L; i < steps; i++)
            {
                refcount -= size;
                if (refcount == 0)
                {
                    return $"this release would drop {r.Folio}'s last reference (the kernel frees the folio; a use after free follows: not modelled)";
                }
            }

            now[r.Folio] = refcount;
        }

        return null;
    }

    /// <summary>
    /// UnpinArray: an unpin_user_pages[_dirty_lock]() call on an array the caller built. Only what the era defines is
    /// valid: a -errno count where unpin_user_pages() refuses it (v5.11+), leading NULL entries where it skips them
    /// (v6.13+), and neither through the make_dirty path, which has no such test (it would run off the array or
    /// dereference NULL).
    /// </summary>
    private static string? UnpinArray(ModelState s, UnpinArray c)
    {
        var p = s.Profile;
        if (p.Pins == PinScheme.NoPins)
        {
            return "no unpin_* before FOLL_PIN";
        }

        if (c.Fn is not (ReleaseFn.UnpinUserPages or ReleaseFn.UnpinUserPagesDirtyLock))
        {
            return "only unpin_user_pages() and unpin_user_pages_dirty_lock() take an array";
        }

        if (c.NullPrefix is < 0 or > 8 || c.Errno < 0 || c.Errno > 4095)
        {
            return "NULL entries 0..8 and an errno 1..4095";
        }

        if (c.NullPrefix == 0 && c.Errno == 0)
        {
            return "an array without NULL entries and with its true count is a Release";
        }

        var viaDirty = c.Fn == ReleaseFn.UnpinUserPagesDirtyLock && c.MakeDirty;
        if (c.Errno != 0 && (!p.UnpinRefusesErrnoCount || viaDirty))
        {
            return "a -errno count makes this call run off the array: undefined";
        }

        if (c.Errno == 0 && (!p.UnpinSkipsNullEntry || viaDirty))
        {
            return "a NULL entry is dereferenced here: undefined";
        }

        return Release(s, new Release(c.Call, ReleaseFn.UnpinUserPages, c.Index, c.Count));
    }

    /// <summary>Folios of one Anon region are physically contiguous in order (CONTRACT §1); nothing else is.</summary>
    private static bool PhysicallyContiguous(ModelState s, List<EntryRun> runs)
    {
        int? region = null;
        long next = -1;
        foreach (var r in runs)
        {
            if (!ModelState.TryParseKey(r.Folio, out var id, out var index) || s.RegionById(id) is not { Kind: RegionKind.Anon } reg
                || (region is { } known && known != id))
            {
                return false;
            }

            var page = (index << reg.Order) + r.First;
            if (region is not null && page != next)
            {
                return false;
            }

            region = id;
            next = page + r.Count;
        }

        return true;
    }

    private static string? AddPin(ModelState s, FolioAddPin c)
    {
        if (!s.Profile.HasFolioAddPin)
        {
            return "no folio_add_pin() in this era";
        }

        if (s.ArrayMap.ContainsKey(c.NewCall))
        {
            return "duplicate call id";
        }

        if (!s.ArrayMap.TryGetValue(c.FromCall, out var array) || c.Index < 0 || c.Index >= array.Entries)
        {
            return "no such entry";
        }

        var e = ReleaseStep.EntryAt(array.Runs, c.Index);
        return e.Released || e.Hold != Hold.Pin ? "folio_add_pin() needs an unreleased pinned entry" : null;
    }

    private static string? IterInit(ModelState s, IterInit c)
    {
        if (s.IterMap.ContainsKey(c.Iter))
        {
            return "duplicate iterator id";
        }

        if (c.Segs is null || c.Segs.Any(g => g.Len < 0 || (UInt128)g.Addr + (ulong)g.Len > ulong.MaxValue))
        {
            return "bad segment";
        }

        switch (c.Kind)
        {
            case IterKind.Ubuf when c.Segs.Count != 1:
                return "UBUF takes exactly one segment";
            case IterKind.Xarray when c.Segs.Count != 1 || !InsideOne(s, c.Segs[0]):
                return "XARRAY takes one segment inside one Anon or File region";
            case IterKind.Bvec when c.Segs.Count < 1 || c.Segs.Any(g => g.Len < 1 || !InsideOne(s, g)):
                // An empty bvec is listed as a page of no bytes by the v6.13+ walk: not modelled.
                return "BVEC takes non-empty segments, each inside one Anon or File region";
            case IterKind.Bvec when !c.Segs.All(g => PhysicallyContiguous(s, g)):
                return "a bio_vec spans physically adjacent pages only: each BVEC segment lies inside one Anon region or one page";
            case IterKind.Kvec when !c.Segs.All(g => g.Len == 0 || KernelMapped(s, g)):
                return "KVEC segments must lie inside Anon/File regions, or over pages of a Zero region already faulted in";
            default:
                return null;
        }
    }

    /// <summary>Whether a segment's pages are physically adjacent (CONTRACT §1): inside one Anon region, or one page.</summary>
    private static bool PhysicallyContiguous(ModelState s, IterSeg g) =>
        s.RegionAt(g.Addr)?.Kind == RegionKind.Anon || Memory.PagesSpanned(g.Addr, g.Len) <= 1;

    private static bool InsideOne(ModelState s, IterSeg g) =>
        s.RegionAt(g.Addr) is { Kind: RegionKind.Anon or RegionKind.File } r && g.Addr + (ulong)Math.Max(g.Len, 1) <= r.End;

    /// <summary>
    /// Whether a KVEC segment lies over kernel memory whose pages stay what they were when the iterator was set up (a
    /// kernel address names a fixed page; the model lists the page mapped at the address when it extracts): Anon and File
    /// pages, and Zero-region pages once a fault has put a page of their own there. An untouched Zero-region page is the
    /// shared zero page until a write fault replaces it in the mapping, which a kernel buffer would not follow (a run on
    /// 6.12.118 showed the kernel listing the zero page where the model listed the faulted page).
    /// </summary>
    private static bool KernelMapped(ModelState s, IterSeg g)
    {
        var addr = g.Addr;
        var end = g.Addr + (ulong)g.Len;
        while (addr < end)
        {
            if (s.RegionAt(addr) is not { Kind: RegionKind.Anon or RegionKind.File or RegionKind.Zero } r)
            {
                return false;
            }

            if (r.Kind == RegionKind.Zero)
            {
                var last = (long)((Math.Min(end, r.End) - 1 - r.Start) / (ulong)Sizes.PageSize);
                for (var page = (long)((addr - r.Start) / (ulong)Sizes.PageSize); page <= last; page++)
                {
                    if (Memory.PageOf(r, page).Folio == FolioState.ZeroKey)
                    {
                        return false;
                    }
                }
            }

            addr = r.End;
        }

        return true;
    }

    private static string? BioAdd(ModelState s, BioAdd c)
    {
        if (s.UsedBios.Contains(c.Bio))
        {
            return "a bio is added to at most once";
        }

        if (!s.IterMap.TryGetValue(c.Iter, out var it))
        {
            return "unknown iterator";
        }

        if (it.Kind is not (IterKind.Ubuf or IterKind.Iovec or IterKind.Bvec))
        {
            return "bios take UBUF, IOVEC or BVEC iterators";
        }

        if (c.MaxVecs < 1)
        {
            return "max_vecs must be >= 1";
        }

        if (c.LogicalBlockSize is not (512 or 1024 or 2048 or 4096))
        {
            return "the logical block size must be 512, 1024, 2048 or 4096";
        }

        var lbs = (ulong)c.LogicalBlockSize;
        if (s.Profile.BioBlockAlign == BioBlockAlign.WholeBio && it.UserBacked && it.Segs.Any(g => g.Addr % lbs != 0 || (ulong)g.Len % lbs != 0))
        {
            // v6.18 bio_iov_iter_align_down() trims the finished bio by whole trailing bvecs: not modelled.
            return "segments must be multiples of the logical block size (v6.18+ whole-bio alignment is not modelled)";
        }

        if (it.Kind == IterKind.Bvec && !s.Profile.BioBvecCloned && (it.Count == 0 || it.Segs.Count(g => g.Len > 0) > c.MaxVecs))
        {
            // Before bio_iov_bvec_set(), __bio_iov_bvec_add_pages() added the bvecs one by one until the bio was full.
            return "a BVEC bio of more bvecs than max_vecs, or of an empty iterator, before bio_iov_bvec_set() (5.6, 5.7) is not modelled";
        }

        return null;
    }
}
