namespace GupConformance.Spec.Live;

/// <summary>
/// What the running machine offers the live fixture, found by probing; anything missing carries its reason. These are
/// facts of the machine, not of the kernel's era: the era is the live profile's, and the live model takes both.
/// </summary>
public sealed record LiveEnvironment(
    string KernelRelease,
    bool Available,
    string? NotApplicableReason,
    bool HasThp,
    bool HasMthp64,
    int HugetlbPool,
    IReadOnlyDictionary<string, string> Missing)
{
    public bool HasHugetlb => HugetlbPool > 0;

    /// <summary>A read fault of an untouched private anonymous small page maps the shared zero page (probed by
    /// reading a fresh page and looking at its kpageflags). Upstream kernels do; a kernel booted not to (or an
    /// architecture where mm_forbids_zeropage()) maps a fresh exclusive page instead.</summary>
    public bool ZeroPageOnRead { get; init; } = true;

    /// <summary>The base page size in bytes (sysconf(_SC_PAGESIZE) in the helper).</summary>
    public int PageSize { get; init; } = 4096;

    /// <summary>Every probed fact in probe order, as name and value, for the report's environment section.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Probes { get; init; } = [];

    public static LiveEnvironment NotApplicable(string release, string reason) =>
        new(release, false, reason, false, false, 0, new Dictionary<string, string>(StringComparer.Ordinal) { ["live"] = reason });
}

/// <summary>
/// One live session: a fresh process holding mappings, rings and pipes. Each command returns the observed fields
/// (result, dacq, drel, vmpin, base, state.rN, layout.rN, fork.rN, threshold, …) as canonical text.
/// </summary>
public interface ILiveKernel : IDisposable
{
    IReadOnlyDictionary<string, string> Execute(LiveCommand command);
}

/// <summary>The live fixture's factory: probes the machine once, changes the settings it needs (and restores them on
/// Dispose), and creates a fresh session per command sequence.</summary>
public interface ILiveKernelFactory : IDisposable
{
    LiveEnvironment Environment { get; }

    ILiveKernel Create();

    /// <summary>Global nr_foll_pin_acquired - nr_foll_pin_released now (after folding per-CPU deltas).</summary>
    long OutstandingPins();

    /// <summary>A description of what was changed and whether it was put back (after Dispose).</summary>
    IReadOnlyList<string> CleanupReport { get; }
}
