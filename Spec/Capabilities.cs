namespace GupConformance.Spec;

/// <summary>The facets of the contract an implementation may implement.</summary>
[Flags]
public enum Facet
{
    None = 0,

    /// <summary>Order-0 pages: entry points, flag validation, FOLL_GET/FOLL_PIN accounting, release, vmstat, overflow.</summary>
    Core = 1 << 0,

    /// <summary>Large folios (order 1..18) with their exact pin counters.</summary>
    LargeFolios = 1 << 1,

    /// <summary>The shared zero page and the faults that replace it.</summary>
    ZeroPage = 1 << 2,

    /// <summary>iov_iter_extract_pages() and its retention query.</summary>
    IovIter = 1 << 3,

    /// <summary>Bios built from iterators: cleanup flags, same-page merge, release and dirtying.</summary>
    Bio = 1 << 4,

    /// <summary>get_vaddr_frames() / get_vaddr_pfns() frame vectors.</summary>
    FrameVector = 1 << 5,

    /// <summary>netfs_extract_user_iter() and its cleanup.</summary>
    Netfs = 1 << 6,

    All = Core | LargeFolios | ZeroPage | IovIter | Bio | FrameVector | Netfs | ReleaseArguments | AllocFailure | RemoteMm | LongtermMigration,

    /// <summary>Consumer-level system calls on the running kernel (Spec/Live): never part of <see cref="All"/>, so
    /// only the live run produces these commands.</summary>
    Live = 1 << 7,

    /// <summary>
    /// The release calls given what a caller may pass besides a GUP result: a -errno count, NULL entries
    /// (<see cref="UnpinArray"/>). An implementation that does not claim it never receives those commands.
    /// </summary>
    ReleaseArguments = 1 << 8,

    /// <summary>
    /// Fault injection: the pages-array allocation inside iov_iter_extract_pages() fails (<see cref="IterExtract.AllocFails"/>).
    /// An implementation that cannot inject the failure does not claim it and never receives those commands.
    /// </summary>
    AllocFailure = 1 << 9,

    /// <summary>
    /// A second address space (mm 1): regions mapped in it, the *_remote entry points walking it, and each mm's
    /// MMF_HAS_PINNED (<see cref="InspectMm"/>). An implementation that serves one process only does not claim it.
    /// </summary>
    RemoteMm = 1 << 10,

    /// <summary>
    /// Anonymous regions in a movable area (ZONE_MOVABLE or a CMA pageblock, <see cref="MapRegion.Movable"/>), whose
    /// pages a FOLL_LONGTERM pin migrates before it keeps them. An implementation whose memory never comes from such an
    /// area (a real kernel's adapter allocates GFP_KERNEL blocks) does not claim it and never receives those regions.
    /// </summary>
    LongtermMigration = 1 << 11,
}

/// <summary>A declared, reasoned divergence from a rule: reported as such, and a failure if it disappears.</summary>
public sealed record ExpectedDivergence(string RuleId, string Reason);

/// <summary>
/// What an implementation claims: the profile it implements and the facets it covers. Rules needing a facet
/// outside the manifest are reported Not applicable, naming the missing facet. <paramref name="MaxOrder"/>, when
/// given, is the largest folio order the implementation can map (a real kernel's allocator has a limit): the
/// generator then maps no larger folios.
/// </summary>
public sealed record CapabilityManifest(
    string Implementation,
    string ProfileId,
    Facet Facets,
    IReadOnlyList<ExpectedDivergence>? ExpectedDivergences = null,
    int? MaxOrder = null)
{
    public IReadOnlyList<ExpectedDivergence> Divergences => ExpectedDivergences ?? [];

    /// <summary>The largest folio order commands may map under this manifest.</summary>
    public int MaxFolioOrder => Math.Clamp(MaxOrder ?? Sizes.MaxOrder, 0, Sizes.MaxOrder);
}
