namespace GupConformance.Oracles.Live;

/// <summary>How io_uring keeps the pins of a registered buffer (semantics §9).</summary>
public enum CoalesceMode
{
    /// <summary>One pin per page kept (up to 6.3).</summary>
    None,

    /// <summary>6.4 – 6.8: a buffer lying inside one large folio keeps one pin.</summary>
    SingleFolio,

    /// <summary>6.12+: one pin per large folio when the buffer's folios line up (io_check_coalesce_buffer).</summary>
    MultiFolio,
}

/// <summary>Whether direct I/O takes pins or references (semantics §10, the 2022 RFC).</summary>
public enum DioRetention
{
    /// <summary>6.5+: pins for reads and writes.</summary>
    Pins,

    /// <summary>The 2022 iov_iter extraction RFC: references for a user source (a write), pins for a destination.</summary>
    RefsForWrites,

    /// <summary>Up to 6.4: FOLL_GET references for both.</summary>
    Refs,
}

/// <summary>
/// One era of the consumer layer as the live model sees it. <see cref="VmPinSearchesEarlierBuffers"/>: whether
/// io_buffer_account_pin()'s headpage_already_acct() finds a large folio charged by an earlier iovec of the same
/// IORING_REGISTER_BUFFERS call. Up to 6.12 io_sqe_buffers_register() grows ctx->nr_user_bufs per iovec, so it
/// does (io_uring/rsrc.c of 6.1.192 and 6.12.118) and a folio is charged once per registration; from 6.13 the table
/// is built in a local io_rsrc_data and installed after the loop (ctx->buf_table = data), so the search sees none
/// and only last_hpage (the previous page's folio) keeps a folio from being charged again. The live run uses the profile matching the running
/// kernel; the others exist to show (and to test) that a model of the wrong era is caught on the live kernel.
/// </summary>
public sealed record LiveProfile(
    string Id,
    string Description,
    bool ZeroPagePinned,
    DioRetention Dio,
    CoalesceMode Coalesce,
    bool ForkTakesRefBeforeCheck,
    bool VmPinSearchesEarlierBuffers)
{
    public static LiveProfile Linux618 { get; } = new("linux-6.18",
        "6.13+: multi-folio io_uring coalescing, DIO pins, the zero page never pinned, fork checks after its own reference, VmPin does not search the earlier buffers of a registration",
        ZeroPagePinned: false, Dio: DioRetention.Pins, Coalesce: CoalesceMode.MultiFolio, ForkTakesRefBeforeCheck: true, VmPinSearchesEarlierBuffers: false);

    public static LiveProfile Linux612 { get; } = new("linux-6.12.y",
        "6.12.118 (Debian's linux-source-6.12): multi-folio coalescing (io_check_coalesce_buffer), DIO pins, the zero page never pinned, VmPin searches the earlier buffers of a registration",
        ZeroPagePinned: false, Dio: DioRetention.Pins, Coalesce: CoalesceMode.MultiFolio, ForkTakesRefBeforeCheck: true, VmPinSearchesEarlierBuffers: true);

    public static LiveProfile Linux68 { get; } = new("linux-6.8",
        "6.5 – 6.11: io_uring coalesces only a buffer inside one folio",
        ZeroPagePinned: false, Dio: DioRetention.Pins, Coalesce: CoalesceMode.SingleFolio, ForkTakesRefBeforeCheck: true, VmPinSearchesEarlierBuffers: true);

    public static LiveProfile Linux64 { get; } = new("linux-6.4",
        "6.4: DIO takes references, the zero page is pinned like any page",
        ZeroPagePinned: true, Dio: DioRetention.Refs, Coalesce: CoalesceMode.SingleFolio, ForkTakesRefBeforeCheck: true, VmPinSearchesEarlierBuffers: true);

    public static LiveProfile Linux61y { get; } = new("linux-6.1.y",
        "6.1.192 (Debian's linux-source-6.1): no coalescing, DIO references, the zero page never pinned (backported to 6.1.y), fork takes its reference before the check",
        ZeroPagePinned: false, Dio: DioRetention.Refs, Coalesce: CoalesceMode.None, ForkTakesRefBeforeCheck: true, VmPinSearchesEarlierBuffers: true);

    public static LiveProfile Linux515 { get; } = new("linux-5.15",
        "5.15: no coalescing, DIO references, zero page pinned, fork checks before taking the child's reference",
        ZeroPagePinned: true, Dio: DioRetention.Refs, Coalesce: CoalesceMode.None, ForkTakesRefBeforeCheck: false, VmPinSearchesEarlierBuffers: true);

    public static LiveProfile Rfc2022 { get; } = new("proposal-2022-iov-extract-rfc",
        "6.18 with the 2022 RFC's DIO: references for a user source (writes), pins for a destination",
        ZeroPagePinned: false, Dio: DioRetention.RefsForWrites, Coalesce: CoalesceMode.MultiFolio, ForkTakesRefBeforeCheck: true, VmPinSearchesEarlierBuffers: false);

    public static IReadOnlyList<LiveProfile> All { get; } = [Linux618, Linux612, Linux68, Linux64, Linux61y, Linux515, Rfc2022];

    public static LiveProfile? Find(string id) => All.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.Ordinal));

    /// <summary>The profile matching a kernel release string (e.g. "6.18.44-fc"), or null when none matches.</summary>
    public static LiveProfile? ForKernel(string release)
    {
        var parts = release.Split('.', '-');
        if (parts.Length < 2 || !int.TryParse(parts[0], out var major) || !int.TryParse(parts[1], out var minor))
        {
            return null;
        }

        var v = (major * 1000) + minor;
        return v >= 6013 ? Linux618 : v == 6012 ? Linux612 : v >= 6005 ? Linux68 : v == 6004 ? Linux64 : v == 6001 ? Linux61y : null;
    }
}
