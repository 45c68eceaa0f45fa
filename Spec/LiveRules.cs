namespace GupConformance.Spec;

/// <summary>One rule of the live (running-kernel) catalogue: consumer-level behaviour user space can observe.</summary>
public sealed record LiveRule(string Id, string Group, string Title, string Intent, string IfFails, string Source);

/// <summary>
/// The live catalogue: what the LiveKernel fixture checks on a running kernel. Kept apart from
/// <see cref="Rules.All"/> (whose rules are per-era GUP entry-point rules) and rendered as the last part of the one
/// catalogue, Spec/RULES.md (<see cref="CatalogueDocument.RenderRules"/>).
/// Ground truth: ../shared/reference/linux-live-observability.md (measured) and linux-gup-semantics.md §1.5, §4, §9–§11.
/// </summary>
public static class LiveRules
{
    private const string Obs = "linux-live-observability.md";

    public static IReadOnlyList<LiveRule> All { get; } =
    [
        new("LIVE-VMSTAT-BASELINE", "vmstat", "acquired − released is stable before every step",
            "After stat_refresh the global nr_foll_pin_acquired − nr_foll_pin_released equals what the session expects (its start value plus every net pin it measured) before each step; a bounded retry absorbs other processes.",
            "Another process on the machine pins pages (O_DIRECT, io_uring, RDMA); run the live suite on an idle machine.", $"{Obs} §0"),
        new("LIVE-URING-PIN-PER-PAGE", "io_uring", "Registration pins every page of every iovec",
            "IORING_REGISTER_BUFFERS pins each page spanned by each iovec with pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM): acquired += pages, overlapping iovecs and rings counted separately.",
            "io_pin_pages() in io_uring/memmap.c; the per-iovec page count ((addr + len − 1) >> 12) − (addr >> 12) + 1.", $"semantics §9; {Obs} §1a, §1e"),
        new("LIVE-URING-COALESCE", "io_uring", "One kept pin per large folio",
            "When an iovec's pages are contiguous runs of large folios of one size (io_check_coalesce_buffer), all pins but one per folio are released at registration time.",
            "io_check_coalesce_buffer() / io_coalesce_buffer(); 6.4–6.8 coalesced only a buffer inside one folio, earlier eras not at all.", $"semantics §9; {Obs} §1b–§1d"),
        new("LIVE-URING-UNREGISTER", "io_uring", "Unregistration releases every kept pin",
            "IORING_UNREGISTER_BUFFERS releases exactly the pins kept at registration; -ENXIO when the ring has no buffers.",
            "io_release_ubuf() → unpin_user_folio(folio, 1) per bvec.", "semantics §9"),
        new("LIVE-URING-BUSY", "io_uring", "A second registration is refused before pinning",
            "A ring that already has buffers answers -EBUSY without pinning anything (and without a pin attempt).",
            "io_sqe_buffers_register(): the buf_table check comes first.", "io_uring/rsrc.c"),
        new("LIVE-URING-ERROR-UNDO", "io_uring", "A failed registration undoes its partial pins",
            "A registration reaching a PROT_NONE page fails with -EFAULT; every page pinned before (earlier iovecs and the failing iovec's prefix, faulted in) is released again: acquired = released = those pages.",
            "io_pin_pages(): partial result → unpin, -EFAULT; io_sqe_buffers_register() error path.", $"{Obs} §1f"),
        new("LIVE-URING-CLOSE", "io_uring", "close() without unregister releases the pins (asynchronously)",
            "Closing a ring with registered buffers releases every kept pin from the ring teardown work; the fixture waits for it (bounded).",
            "io_ring_exit_work(); the fixture's wait bound.", $"{Obs} §1e"),
        new("LIVE-URING-VMPIN", "io_uring", "VmPin charges registered buffers",
            "mm->pinned_vm (VmPin) grows by 4 kB per (iovec, small page) and by the whole folio for a large folio, not again for the next page of the same folio; up to 6.12 not again within the whole registration call (headpage_already_acct() searches the buffers registered before, ctx->nr_user_bufs growing per iovec), from 6.13 again in a later iovec unless that iovec starts in the folio the previous one ended in (the table is installed after the loop); unregister or close gives it back; munmap does not.",
            "io_buffer_account_pin() / headpage_already_acct() / io_sqe_buffers_register() in io_uring/rsrc.c; the profile's VmPinSearchesEarlierBuffers.", $"{Obs} §1b, §1e, §6; io_uring/rsrc.c of 6.1.192, 6.12.118 and 6.13+"),
        new("LIVE-DIO-PIN", "dio", "O_DIRECT pins one page per (iovec, page), released at completion",
            "preadv/pwritev on an O_DIRECT file pins every page spanned by every iovec and unpins it at completion: acquired = released = that count; the call returns the byte count.",
            "iomap_dio_bio_iter() → bio_iov_iter_get_pages() pins (BIO_PAGE_PINNED) since 6.5; earlier eras and the 2022 RFC took references for a write. One pin too many per request: the data file is not contiguous on disk (a request crossing an extent boundary becomes two bios, each pinning the page the boundary falls in; see the report's O_DIRECT file line).", $"semantics §10; {Obs} §2"),
        new("LIVE-DIO-ZERO-PAGE", "dio", "A DIO write from the zero page counts no pin",
            "A write from an untouched or read-faulted small page pins the shared zero page, which is never counted (6.5+). Not applicable where the kernel maps no zero page on read faults (probed).",
            "is_zero_folio() in try_grab_folio() / gup_put_folio() (c8070b787519).", $"semantics §1.5; {Obs} §2"),
        new("LIVE-DIO-FAST-UNSHARE", "dio", "GUP-fast pins and drops a shared page it must unshare",
            "A R/O pin_user_pages_fast() (an O_DIRECT write) whose fast walk reaches a present anonymous page that lost PG_anon_exclusive grabs it, sees gup_must_unshare(), drops the pin and falls back to the slow path (which unshares and pins): one extra acquired/released pair per such call.",
            "gup_fast_pte_range(): try_grab_folio_fast() comes before the gup_must_unshare() test; the slow path's follow_page_pte() tests first. Not in the reference documents: found by this suite.", "mm/gup.c (6.18)"),
        new("LIVE-BUFFERED-NO-PIN", "dio", "Buffered I/O pins nothing",
            "preadv/pwritev without O_DIRECT copy through the page cache: no pin counted.", "copy_to_user / copy_from_user.", $"{Obs} §2"),
        new("LIVE-GET-INVISIBLE", "refs", "FOLL_GET references are invisible to the counters",
            "vmsplice takes one page reference per pipe slot (iov_iter_get_pages2); the pin counters do not move.",
            "vmsplice_to_pipe() → iov_iter_get_pages2() → get_user_pages_fast(flags 0).", $"{Obs} §3"),
        new("LIVE-PVM-PIN", "remote", "process_vm_readv/writev pin the remote pages",
            "Each remote iovec's pages are pinned (pin_user_pages_remote) and released after the copy; a read from the zero page counts nothing.",
            "process_vm_rw_single_vec().", $"{Obs} §6"),
        new("LIVE-MUNMAP-KEEPS-PINS", "io_uring", "munmap of a registered buffer moves no counter",
            "munmap drops the mapping, not the pins: acquired, released and VmPin are unchanged until unregistration.",
            "The ring holds the pins.", $"{Obs} §1e"),
        new("LIVE-FAULT-STATE", "pages", "Page states follow faults",
            "A read fault maps the zero page (kpageflags ZERO_PAGE) on an untouched small page (a fresh exclusive page where the environment probe found that the kernel maps no zero page on read faults), a write fault or a FOLL_WRITE pin maps a fresh exclusive anonymous page (kpageflags bit 34 = PG_anon_exclusive); large kinds are populated exclusive.",
            "do_anonymous_page(); the kpageflags bits.", $"{Obs} §6"),
        new("LIVE-FOLIO-LAYOUT", "pages", "The folio layout the region asked for",
            "THP regions hold 512-page folios, mTHP regions 16-page folios, hugetlb regions 512-page huge pages (kpageflags compound head/tail), small regions order-0 pages.",
            "THP / mTHP sysfs settings, the hugetlb pool; a failed large allocation falls back to small pages.", $"{Obs} environment"),
        new("LIVE-FORK-COPY-PINNED", "fork", "fork copies an exclusive maybe-pinned page",
            "With MMF_HAS_PINNED set, an anon-exclusive page whose folio may be DMA-pinned is copied into the child; the parent keeps the original (still exclusive).",
            "folio_try_dup_anon_rmap_ptes() → folio_needs_cow_for_dma().", $"semantics §11; {Obs} §4"),
        new("LIVE-FORK-SHARE", "fork", "fork shares everything else and clears anon-exclusive",
            "Pages that are not maybe-pinned, not exclusive, or whose mm never pinned are shared with the child (same frame); shared anonymous pages lose PG_anon_exclusive.",
            "copy_present_ptes().", $"{Obs} §4, §6"),
        new("LIVE-FORK-LARGE-WHOLE", "fork", "A pinned large folio is copied whole",
            "One pinned page of a THP, mTHP or hugetlb folio makes fork copy every page of that folio (the folio-wide pin count decides); other folios are shared.",
            "copy_present_ptes() batching; copy_huge_pmd() split; hugetlb_try_dup_anon_rmap().", $"{Obs} §4"),
        new("LIVE-FORK-HAS-PINNED", "fork", "MMF_HAS_PINNED: set by any pin attempt, never by FOLL_GET",
            "io_uring registration attempts (also failed ones), O_DIRECT (also zero-page-only), process_vm_readv/writev on us set the flag; vmsplice and buffered I/O do not; without it nothing is copied.",
            "mm_set_has_pinned_flag() in gup_fast_fallback() / __gup_longterm_locked().", $"{Obs} §5"),
        new("LIVE-FORK-BIAS-THRESHOLD", "fork", "The small-folio bias threshold: copy at 2 + k + b ≥ 1024",
            "A small exclusive page with k plain references is judged maybe-pinned when refcount = 1 (mapping) + 1 (fork's own reference) + k + b reaches 1024, b = 1 while it sits in the per-CPU lru_add batch (kpageflags LRU clear).",
            "folio_maybe_dma_pinned() = refcount ≥ GUP_PIN_COUNTING_BIAS, tested after fork's folio_get() since 5.19.", $"semantics §11.2; {Obs} §5"),
        new("LIVE-UNSHARE", "pages", "Write or pin on a shared page: reuse or copy",
            "A write fault, FOLL_WRITE pin or R/O FOLL_PIN (unshare) on a small anonymous page that lost PG_anon_exclusive reuses it when nobody else references it and copies it otherwise (e.g. while a pipe holds a reference); either way it becomes exclusive.",
            "do_wp_page() → wp_can_reuse_anon_folio(); gup_must_unshare().", "semantics §11.2"),
    ];

    public static LiveRule? Find(string id) => All.FirstOrDefault(r => string.Equals(r.Id, id, StringComparison.Ordinal));
}
