namespace GupConformance.Spec;

/// <summary>The GUP entry points (mm/gup.c). Which exist depends on the era: see <see cref="Profile.EntryPoints"/>.</summary>
public enum EntryPoint
{
    GetUserPages,
    GetUserPagesRemote,
    GetUserPagesUnlocked,
    GetUserPagesFast,
    GetUserPagesFastOnly,
    PinUserPages,
    PinUserPagesRemote,
    PinUserPagesUnlocked,
    PinUserPagesFast,
    PinUserPagesFastOnly,
}

/// <summary>Entry point facts that do not depend on the era.</summary>
public static class EntryPoints
{
    public static bool IsPin(this EntryPoint e) => e >= EntryPoint.PinUserPages;

    public static bool IsFast(this EntryPoint e) => e is EntryPoint.GetUserPagesFast or EntryPoint.GetUserPagesFastOnly
        or EntryPoint.PinUserPagesFast or EntryPoint.PinUserPagesFastOnly;

    public static bool IsUnlocked(this EntryPoint e) => e is EntryPoint.GetUserPagesUnlocked or EntryPoint.PinUserPagesUnlocked;

    public static bool IsRemote(this EntryPoint e) => e is EntryPoint.GetUserPagesRemote or EntryPoint.PinUserPagesRemote;

    /// <summary>The kernel function name, e.g. pin_user_pages_fast.</summary>
    public static string KernelName(this EntryPoint e) => e switch
    {
        EntryPoint.GetUserPages => "get_user_pages",
        EntryPoint.GetUserPagesRemote => "get_user_pages_remote",
        EntryPoint.GetUserPagesUnlocked => "get_user_pages_unlocked",
        EntryPoint.GetUserPagesFast => "get_user_pages_fast",
        EntryPoint.GetUserPagesFastOnly => "get_user_pages_fast_only",
        EntryPoint.PinUserPages => "pin_user_pages",
        EntryPoint.PinUserPagesRemote => "pin_user_pages_remote",
        EntryPoint.PinUserPagesUnlocked => "pin_user_pages_unlocked",
        EntryPoint.PinUserPagesFast => "pin_user_pages_fast",
        EntryPoint.PinUserPagesFastOnly => "pin_user_pages_fast_only",
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };
}

/// <summary>The release calls a caller can make on entries of a pages array.</summary>
public enum ReleaseFn
{
    /// <summary>put_page() on each entry.</summary>
    PutPage,

    /// <summary>unpin_user_page() on each entry.</summary>
    UnpinUserPage,

    /// <summary>unpin_user_pages(pages, n) on the entries as one array.</summary>
    UnpinUserPages,

    /// <summary>unpin_user_pages_dirty_lock(pages, n, make_dirty).</summary>
    UnpinUserPagesDirtyLock,

    /// <summary>unpin_user_page_range_dirty_lock(first, n, make_dirty): the entries must be physically contiguous.</summary>
    UnpinUserPageRangeDirtyLock,
}

/// <summary>iov_iter types (include/linux/uio.h).</summary>
public enum IterKind
{
    Ubuf,
    Iovec,
    Kvec,
    Bvec,
    Xarray,
    Discard,
}

/// <summary>Direction of an iterator: a source of data (ITER_SOURCE, a write to a device) or a destination (ITER_DEST, a read).</summary>
public enum IterDir
{
    Source,
    Dest,
}

/// <summary>Kinds of memory a region can hold.</summary>
public enum RegionKind
{
    /// <summary>Private anonymous memory, populated: folios of the region's order.</summary>
    Anon,

    /// <summary>Private anonymous memory never written: every page maps the shared zero page until a write fault.</summary>
    Zero,

    /// <summary>A shared file mapping: page-cache small pages (needs dirty tracking).</summary>
    File,

    /// <summary>A VM_IO mapping: GUP refuses it.</summary>
    Io,

    /// <summary>A VM_PFNMAP mapping: GUP refuses it; old frame vectors follow its pfns.</summary>
    PfnMap,
}

/// <summary>The contract's constants.</summary>
public static class Sizes
{
    public const int PageShift = 12;
    public const long PageSize = 1L << PageShift;
    public const int MaxOrder = 18;

    /// <summary>MAX_RW_COUNT = INT_MAX &amp; PAGE_MASK (include/linux/fs.h).</summary>
    public const long MaxRwCount = int.MaxValue & ~(PageSize - 1);

    /// <summary>GUP_PIN_COUNTING_BIAS (include/linux/mm.h, v5.7+).</summary>
    public const int GupPinCountingBias = 1024;
}
