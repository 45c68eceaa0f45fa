using System.Globalization;

namespace GupConformance.Spec.Live;

/// <summary>What backs a live region: small pages, PMD THP, 64 KiB mTHP or 2 MiB hugetlb pages.</summary>
public enum LiveRegionKind
{
    /// <summary>Private anonymous 4 KiB pages (MADV_NOHUGEPAGE), left untouched until touched.</summary>
    Small,

    /// <summary>2 MiB-aligned, MADV_HUGEPAGE, write-populated: one PMD THP per 512 pages.</summary>
    Thp,

    /// <summary>64 KiB-aligned, MADV_HUGEPAGE with hugepages-64kB = madvise, write-populated: 16-page folios.</summary>
    Mthp64,

    /// <summary>MAP_HUGETLB 2 MiB pages from the reserved pool, write-populated.</summary>
    Hugetlb,
}

/// <summary>One iovec: bytes [Offset, Offset + Length) of region <paramref name="Region"/>; region -1 is a
/// PROT_NONE hole (every page of it faults). Offset + Length may run past the region's end by at most two pages,
/// into the PROT_NONE guard that follows every region.</summary>
public sealed record LiveIov(int Region, long Offset, long Length)
{
    public override string ToString() => Region < 0
        ? string.Create(CultureInfo.InvariantCulture, $"hole+{Offset}:{Length}")
        : string.Create(CultureInfo.InvariantCulture, $"r{Region}+{Offset}:{Length}");

    /// <summary>The helper's wire form: "region offset length".</summary>
    public string Wire() => string.Create(CultureInfo.InvariantCulture, $"{Region} {Offset} {Length}");
}

/// <summary>
/// A consumer-level command executed on the running kernel by the LiveKernel fixture (system calls, not GUP
/// entry points). Live commands need <see cref="Facet.Live"/>, which no ordinary manifest declares, so the
/// ordinary generator never produces them.
/// </summary>
public abstract record LiveCommand : Command
{
    public override Facet Needs => Facet.Live;

    /// <summary>The regions this command names (their page states are observed after it).</summary>
    public virtual IEnumerable<int> RegionsNamed => [];

    protected static string Show(IReadOnlyList<LiveIov> iovs) => "[" + string.Join(", ", iovs) + "]";

    protected static bool Same(IReadOnlyList<LiveIov> a, IReadOnlyList<LiveIov> b) => a.SequenceEqual(b);

    protected static IEnumerable<int> Named(IReadOnlyList<LiveIov> iovs) => iovs.Where(i => i.Region >= 0).Select(i => i.Region).Distinct();
}

/// <summary>mmap a region of <paramref name="Pages"/> 4 KiB pages; large kinds are write-populated.</summary>
public sealed record LiveMap(int Region, LiveRegionKind Kind, int Pages) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => [Region];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"mmap r{Region} {Kind} {Pages} pages");
}

/// <summary>Read (maps the zero page on an untouched small page) or write pages [Page, Page + Count).</summary>
public sealed record LiveTouch(int Region, int Page, int Count, bool Write) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => [Region];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(Write ? "write" : "read")} r{Region} pages {Page}..{Page + Count - 1}");
}

/// <summary>munmap the whole region.</summary>
public sealed record LiveUnmap(int Region) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"munmap r{Region}");
}

/// <summary>io_uring_setup(4).</summary>
public sealed record LiveRingSetup(int Ring) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"io_uring_setup ring{Ring}");
}

/// <summary>close(ring) without unregistering: the kernel releases the buffers asynchronously.</summary>
public sealed record LiveRingClose(int Ring) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"close ring{Ring}");
}

/// <summary>IORING_REGISTER_BUFFERS with these iovecs.</summary>
public sealed record LiveRegister(int Ring, IReadOnlyList<LiveIov> Iovs) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => Named(Iovs);

    public bool Equals(LiveRegister? other) => other is not null && Ring == other.Ring && Same(Iovs, other.Iovs);

    public override int GetHashCode() => HashCode.Combine(Ring, Iovs.Count);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"IORING_REGISTER_BUFFERS ring{Ring} {Show(Iovs)}");
}

/// <summary>IORING_UNREGISTER_BUFFERS.</summary>
public sealed record LiveUnregister(int Ring) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"IORING_UNREGISTER_BUFFERS ring{Ring}");
}

/// <summary>preadv (Write false) or pwritev on an O_DIRECT file at offset 0.</summary>
public sealed record LiveDirectIo(bool Write, IReadOnlyList<LiveIov> Iovs) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => Named(Iovs);

    public bool Equals(LiveDirectIo? other) => other is not null && Write == other.Write && Same(Iovs, other.Iovs);

    public override int GetHashCode() => HashCode.Combine(Write, Iovs.Count);

    public override string ToString() => $"O_DIRECT {(Write ? "pwritev" : "preadv")} {Show(Iovs)}";
}

/// <summary>preadv / pwritev on the same file without O_DIRECT.</summary>
public sealed record LiveBufferedIo(bool Write, IReadOnlyList<LiveIov> Iovs) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => Named(Iovs);

    public bool Equals(LiveBufferedIo? other) => other is not null && Write == other.Write && Same(Iovs, other.Iovs);

    public override int GetHashCode() => HashCode.Combine(Write, Iovs.Count);

    public override string ToString() => $"buffered {(Write ? "pwritev" : "preadv")} {Show(Iovs)}";
}

/// <summary>pipe2(O_NONBLOCK) and F_SETPIPE_SZ to <paramref name="Slots"/> pages.</summary>
public sealed record LivePipeOpen(int Pipe, int Slots) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"pipe{Pipe} ({Slots} slots)");
}

/// <summary>vmsplice the iovecs into the pipe (FOLL_GET references, one per pipe slot = (iovec, page)).</summary>
public sealed record LiveVmsplice(int Pipe, IReadOnlyList<LiveIov> Iovs) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => Named(Iovs);

    public bool Equals(LiveVmsplice? other) => other is not null && Pipe == other.Pipe && Same(Iovs, other.Iovs);

    public override int GetHashCode() => HashCode.Combine(Pipe, Iovs.Count);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"vmsplice pipe{Pipe} {Show(Iovs)}");
}

/// <summary>Close both ends of the pipe: its page references are dropped.</summary>
public sealed record LivePipeClose(int Pipe) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"close pipe{Pipe}");
}

/// <summary>process_vm_readv (Write false) / process_vm_writev with our own pid: the iovecs are the remote side.</summary>
public sealed record LiveProcessVm(bool Write, IReadOnlyList<LiveIov> Iovs) : LiveCommand
{
    public override IEnumerable<int> RegionsNamed => Named(Iovs);

    public bool Equals(LiveProcessVm? other) => other is not null && Write == other.Write && Same(Iovs, other.Iovs);

    public override int GetHashCode() => HashCode.Combine(Write, Iovs.Count);

    public override string ToString() => $"process_vm_{(Write ? "writev" : "readv")} {Show(Iovs)}";
}

/// <summary>fork; compare every page's frame in parent and child (pagemap), then end the child.</summary>
public sealed record LiveFork() : LiveCommand
{
    public override string ToString() => "fork and compare";
}

/// <summary>
/// Find the smallest number k of plain (vmsplice) references on a fresh small exclusive page at which fork
/// copies it instead of sharing it (binary search up to <paramref name="MaxRefs"/>, a fresh page and fork per
/// probe). Every probe forks the whole process, so it shares or copies the regions' pages as a fork does. With
/// <paramref name="InChild"/> the search runs in a forked child, whose mm has never pinned.
/// </summary>
public sealed record LiveThreshold(int MaxRefs = 1100, bool InChild = false) : LiveCommand
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"fork threshold search (k <= {MaxRefs}){(InChild ? " in a forked child" : string.Empty)}");
}

/// <summary>Read the region's page states (pagemap + kpageflags) without changing anything.</summary>
public sealed record LiveInspect(int Region) : LiveCommand
{
    public override bool IsQuery => true;

    public override IEnumerable<int> RegionsNamed => [Region];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"inspect r{Region}");
}
