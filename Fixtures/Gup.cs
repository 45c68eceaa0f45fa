using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// mm/gup.c: the entry points (one function each, as in the kernel), their argument validation by era
/// (legacy WARN checks before v6.3, is_valid_gup_args() after), the GUP-fast range checks,
/// __get_user_pages_locked()'s implied FOLL_GET and the __get_user_pages() walk.
/// </summary>
public partial class KernelStyleImplementation
{

    private bool LegacyEra => Profile.Validation is ValidationScheme.Legacy57 or ValidationScheme.Legacy511 or ValidationScheme.Legacy62 or ValidationScheme.Legacy61Stable;

    /// <summary>The Gup command: encode the caller's symbolic flags as the era's numeric word and call the entry point.</summary>
    private Observation DoGup(Gup c)
    {
        var gupFlags = Profile.Flags.Encode(c.Flags);
        var pages = c.WithPages ? new PageArray() : null;
        var ret = CallEntryPoint(c.Entry, c.Start, c.NrPages, gupFlags, pages, c.Mm, c.Locked);
        var remembered = pages ?? new PageArray();
        if (ret <= 0 && pages is not null && pages.Length > 0)
        {
            throw new InvalidOperationException($"{c.Entry.KernelName()} returned {ret} with {pages.Length} pages held");
        }

        RememberCall(c.Call, remembered);
        return new Observation { Result = ret, Pages = pages?.ToRuns() };
    }

    protected long CallEntryPoint(EntryPoint entry, ulong start, long nrPages, long gupFlags, PageArray? pages, int mm = 0, int? locked = null) => entry switch
    {
        EntryPoint.GetUserPages => GetUserPages(start, nrPages, gupFlags, pages),
        EntryPoint.GetUserPagesRemote => GetUserPagesRemote(mm, start, nrPages, gupFlags, pages, locked),
        EntryPoint.GetUserPagesUnlocked => GetUserPagesUnlocked(start, nrPages, gupFlags, pages),
        EntryPoint.GetUserPagesFast => GetUserPagesFast(start, nrPages, gupFlags, pages),
        EntryPoint.GetUserPagesFastOnly => GetUserPagesFastOnly(start, nrPages, gupFlags, pages),
        EntryPoint.PinUserPages => PinUserPages(start, nrPages, gupFlags, pages),
        EntryPoint.PinUserPagesRemote => PinUserPagesRemote(mm, start, nrPages, gupFlags, pages, locked),
        EntryPoint.PinUserPagesUnlocked => PinUserPagesUnlocked(start, nrPages, gupFlags, pages),
        EntryPoint.PinUserPagesFast => PinUserPagesFast(start, nrPages, gupFlags, pages),
        EntryPoint.PinUserPagesFastOnly => PinUserPagesFastOnly(start, nrPages, gupFlags, pages),
        _ => throw new ArgumentOutOfRangeException(nameof(entry)),
    };

    // ---- Entry points ---------------------------------------------------------------------------------------

    /// <summary>get_user_pages(): API-GET-REFUSES-PIN, API-LONGTERM-NEEDS-PIN, API-LONGTERM-GET-LEGACY; is_valid_gup_args(FOLL_TOUCH).</summary>
    protected virtual long GetUserPages(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_TOUCH)
                ? GetUserPagesLocked(start, nrPages, gupFlags, pages)
                : -Errno.EINVAL;
        }

        return IsValidGupFlagsLegacy(gupFlags) ? GetUserPagesLocked(start, nrPages, gupFlags | FOLL_TOUCH, pages) : -Errno.EINVAL;
    }

    /// <summary>get_user_pages_remote(mm, ..., locked): as get_user_pages(), to_set FOLL_TOUCH | FOLL_REMOTE, walking
    /// <paramref name="mm"/>; <paramref name="locked"/> (null for NULL) as <see cref="RemoteLockedAllowed"/> says.</summary>
    protected virtual long GetUserPagesRemote(int mm, ulong start, long nrPages, long gupFlags, PageArray? pages, int? locked = null)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_TOUCH | FOLL_REMOTE, locked)
                ? GetUserPagesLocked(start, nrPages, gupFlags, pages, mm)
                : -Errno.EINVAL;
        }

        return IsValidGupFlagsLegacy(gupFlags) && RemoteLockedAllowed(gupFlags, locked)
            ? GetUserPagesLocked(start, nrPages, gupFlags | FOLL_TOUCH | FOLL_REMOTE, pages, mm)
            : -Errno.EINVAL;
    }

    /// <summary>
    /// Before v6.3, __get_user_pages_remote(): FOLL_LONGTERM went to __gup_longterm_locked(), which took no locked
    /// argument, so `if (WARN_ON_ONCE(locked)) return -EINVAL;` (API-LOCKED-LONGTERM-LEGACY). From v6.3 the check is
    /// is_valid_gup_args()'s `*locked != 1` (API-LOCKED-MUST-BE-SET).
    /// </summary>
    protected virtual bool RemoteLockedAllowed(long gupFlags, int? locked) => locked is null || (gupFlags & FOLL_LONGTERM) == 0;

    /// <summary>
    /// get_user_pages_unlocked(). Up to v6.1 only API-UNLOCKED-LONGTERM ("FIXME: FOLL_LONGTERM is incompatible
    /// with FAULT_FLAG_ALLOW_RETRY"); it does not test FOLL_PIN because pin_user_pages_unlocked() calls it. v6.2
    /// dropped that guard and calls __gup_longterm_locked(), whose WARN_ON(!(gup_flags &amp; FOLL_PIN)) refuses a
    /// long-term get (API-LONGTERM-NEEDS-PIN) and lets a long-term pin through.
    /// </summary>
    protected virtual long GetUserPagesUnlocked(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_TOUCH | FOLL_UNLOCKABLE)
                ? GetUserPagesLocked(start, nrPages, gupFlags, pages)
                : -Errno.EINVAL;
        }

        if (Profile.Validation == ValidationScheme.Legacy62)
        {
            return (gupFlags & FOLL_LONGTERM) != 0 && (gupFlags & FOLL_PIN) == 0
                ? -Errno.EINVAL
                : GetUserPagesLocked(start, nrPages, gupFlags | FOLL_TOUCH, pages);
        }

        if (LegacyEra && (gupFlags & FOLL_LONGTERM) != 0)
        {
            return -Errno.EINVAL;
        }

        return GetUserPagesLocked(start, nrPages, gupFlags | FOLL_TOUCH, pages);
    }

    /// <summary>get_user_pages_fast(): FOLL_GET always (REF-IMPLIED-GET), then the fast checks.</summary>
    protected virtual long GetUserPagesFast(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_GET)
                ? GupFastFallback(start, nrPages, gupFlags, pages)
                : -Errno.EINVAL;
        }

        return IsValidGupFlagsLegacy(gupFlags) ? GupFastFallback(start, nrPages, gupFlags | FOLL_GET, pages) : -Errno.EINVAL;
    }

    /// <summary>get_user_pages_fast_only(): FOLL_GET | FOLL_FAST_ONLY.</summary>
    protected virtual long GetUserPagesFastOnly(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_GET | FOLL_FAST_ONLY)
                ? GupFastFallback(start, nrPages, gupFlags, pages)
                : -Errno.EINVAL;
        }

        // Before v6.3 the API promised never to return a negative value: errors read as "0 pages".
        return Math.Max(0, GupFastFallback(start, nrPages, gupFlags | FOLL_GET | FOLL_FAST_ONLY, pages));
    }

    /// <summary>pin_user_pages(): API-PIN-GET-EXCLUSIVE, API-PAGES-REQUIRED (6.2), API-PIN-RETURNS-ZERO (6.3+: 0).</summary>
    protected virtual long PinUserPages(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_PIN)
                ? GetUserPagesLocked(start, nrPages, gupFlags, pages)
                : 0;
        }

        return IsValidPinFlagsLegacy(gupFlags, pages is not null)
            ? GetUserPagesLocked(start, nrPages, gupFlags | FOLL_PIN | FOLL_TOUCH, pages)
            : -Errno.EINVAL;
    }

    /// <summary>pin_user_pages_remote(mm, ..., locked): to_set FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE; 0 on invalid args from v6.3.</summary>
    protected virtual long PinUserPagesRemote(int mm, ulong start, long nrPages, long gupFlags, PageArray? pages, int? locked = null)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE, locked)
                ? GetUserPagesLocked(start, nrPages, gupFlags, pages, mm)
                : 0;
        }

        return IsValidPinFlagsLegacy(gupFlags, pages is not null) && RemoteLockedAllowed(gupFlags, locked)
            ? GetUserPagesLocked(start, nrPages, gupFlags | FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE, pages, mm)
            : -Errno.EINVAL;
    }

    /// <summary>pin_user_pages_unlocked(): before v6.3 FOLL_GET check, then get_user_pages_unlocked(FOLL_PIN) (API-UNLOCKED-LONGTERM).</summary>
    protected virtual long PinUserPagesUnlocked(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE)
                ? GetUserPagesLocked(start, nrPages, gupFlags, pages)
                : 0;
        }

        return IsValidPinFlagsLegacy(gupFlags, pages is not null)
            ? GetUserPagesUnlocked(start, nrPages, gupFlags | FOLL_PIN, pages)
            : -Errno.EINVAL;
    }

    /// <summary>pin_user_pages_fast(): FOLL_PIN, then the fast checks; -EINVAL on invalid args in every era.</summary>
    protected virtual long PinUserPagesFast(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        if (Profile.HasValidGupArgs)
        {
            return IsValidGupArgs(pages is not null, ref gupFlags, FOLL_PIN)
                ? GupFastFallback(start, nrPages, gupFlags, pages)
                : -Errno.EINVAL;
        }

        return IsValidPinFlagsLegacy(gupFlags, pages is not null)
            ? GupFastFallback(start, nrPages, gupFlags | FOLL_PIN, pages)
            : -Errno.EINVAL;
    }

    /// <summary>pin_user_pages_fast_only() (5.15–6.2; removed by the v6.3 series).</summary>
    /// Like get_user_pages_fast_only() before v6.3 it never returns a negative value (an error reads as 0).
    protected virtual long PinUserPagesFastOnly(ulong start, long nrPages, long gupFlags, PageArray? pages) =>
        IsValidPinFlagsLegacy(gupFlags, pages is not null)
            ? Math.Max(0, GupFastFallback(start, nrPages, gupFlags | FOLL_PIN | FOLL_FAST_ONLY, pages))
            : 0;

    // ---- Validation -------------------------------------------------------------------------------------------

    /// <summary>
    /// Legacy get_* checks (v5.6–v6.2). API-GET-REFUSES-PIN: WARN_ON_ONCE(gup_flags &amp; FOLL_PIN) → -EINVAL.
    /// API-LONGTERM-NEEDS-PIN: is_valid_gup_flags() (447f3e45c18a, v5.11+) also refuses FOLL_LONGTERM; in
    /// v5.6–v5.10 a long-term get is allowed (API-LONGTERM-GET-LEGACY). The 2015 tree has no checks.
    /// </summary>
    protected virtual bool IsValidGupFlagsLegacy(long gupFlags)
    {
        if (Profile.Validation == ValidationScheme.PrePin)
        {
            return true;
        }

        if ((gupFlags & FOLL_PIN) != 0)
        {
            return false;
        }

        return Profile.Validation == ValidationScheme.Legacy57 || (gupFlags & FOLL_LONGTERM) == 0;
    }

    /// <summary>
    /// Legacy pin_* checks (v5.6–v6.2). API-PIN-GET-EXCLUSIVE: WARN_ON_ONCE(gup_flags &amp; FOLL_GET) → -EINVAL.
    /// API-PAGES-REQUIRED (v6.2 and 6.1.y: every pin_* entry point): WARN_ON_ONCE(!pages).
    /// </summary>
    protected virtual bool IsValidPinFlagsLegacy(long gupFlags, bool havePages)
    {
        if ((gupFlags & FOLL_GET) != 0)
        {
            return false;
        }

        return havePages || Profile.Validation is not (ValidationScheme.Legacy62 or ValidationScheme.Legacy61Stable);
    }

    /// <summary>The flags a caller may not pass (is_valid_gup_args() step 1): v6.3–v6.5 explicit list, v6.8+ INTERNAL_GUP_FLAGS.</summary>
    protected virtual long InternalGupFlags() => Profile.Validation == ValidationScheme.ValidGupArgs68
        ? FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_PIN | FOLL_FAST_ONLY | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE
        : FOLL_PIN | FOLL_TRIED | FOLL_UNLOCKABLE | FOLL_REMOTE | FOLL_FAST_ONLY;

    /// <summary>
    /// is_valid_gup_args() (v6.3+), in the kernel's order. API-INTERNAL-FLAGS, API-TOUCH-ACCEPTED-LEGACY,
    /// API-GET-REFUSES-PIN (1); to_set OR-ed in (2); API-PIN-GET-EXCLUSIVE (3); API-LONGTERM-NEEDS-PIN (4);
    /// API-PAGES-REQUIRED (5); API-LONGTERM-P2PDMA: FOLL_LONGTERM with FOLL_PCI_P2PDMA (6). On refusal the flags stay
    /// untouched.
    /// </summary>
    protected virtual bool IsValidGupArgs(bool havePages, ref long gupFlags, long toSet, int? locked = null)
    {
        var flags = gupFlags;
        if ((flags & InternalGupFlags()) != 0)
        {
            return false;
        }

        flags |= toSet;

        // At the external interface *locked must be 1 (the caller holds mmap_lock); then the walk may drop it.
        if (locked is not null)
        {
            if (locked != 1)
            {
                return false;
            }

            flags |= FOLL_UNLOCKABLE;
        }

        if ((flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET))
        {
            return false;
        }

        if ((flags & FOLL_LONGTERM) != 0 && (flags & FOLL_PIN) == 0)
        {
            return false;
        }

        if (!havePages && (flags & (FOLL_GET | FOLL_PIN)) != 0)
        {
            return false;
        }

        if ((flags & FOLL_LONGTERM) != 0 && (flags & FOLL_PCI_P2PDMA) != 0)
        {
            return false;
        }

        gupFlags = flags;
        return true;
    }

    /// <summary>
    /// internal_get_user_pages_fast() / gup_fast_fallback(). API-FAST-FLAG-MASK: WARN + -EINVAL for flags
    /// outside the era's mask; API-FAST-RANGE-OVERFLOW: check_add_overflow(start, len) → 0 (≤6.4) or -EOVERFLOW;
    /// end &gt; TASK_SIZE_MAX → -EFAULT. The pages themselves are grabbed with the slow path's per-entry totals.
    /// </summary>
    protected virtual long GupFastFallback(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        var accepted = Profile.Flags.Encode(Profile.FastAccepted);
        if ((gupFlags & ~accepted) != 0)
        {
            return -Errno.EINVAL;
        }

        // GUP-PIN-MARKS-MM: current->mm is marked before the range checks.
        MmSetHasPinnedFlag(0, gupFlags);

        start &= PAGE_MASK;
        var end = (UInt128)start + ((UInt128)(ulong)nrPages << Sizes.PageShift);
        if (end > ulong.MaxValue)
        {
            return Profile.FastRangeOverflowResult;
        }

        if ((ulong)end > TASK_SIZE_MAX)
        {
            return -Errno.EFAULT;
        }

        var pinLongTerm = FOLL_PIN | FOLL_LONGTERM;
        if (Profile.FastPinTransients && (gupFlags & pinLongTerm) == pinLongTerm)
        {
            GupFastLongTermPinPrefix(start, nrPages, gupFlags);
        }

        if (IsMigratingLongtermPin(gupFlags, pages) && (gupFlags & FOLL_FAST_ONLY) == 0
            && GupFastUnpinnableIndex(start, nrPages) is { } nrPinned)
        {
            return GupFastThenLongtermLocked(start, nrPages, nrPinned, gupFlags, pages!);
        }

        var nr = GetUserPagesLocked(start, nrPages, gupFlags, pages);

        // FOLL_FAST_ONLY: the lockless walk never falls back to the slow path, so a hole, a refused VMA or a failed
        // grab just ends the walk and the call reports the pages it got (possibly none), never an error.
        return (gupFlags & FOLL_FAST_ONLY) != 0 && nr < 0 ? 0 : nr;
    }

    /// <summary>
    /// gup_fast_pte_range() ahead of the slow walk, for a FOLL_LONGTERM pin (6.12): it stops at a special PTE (the
    /// zero page), a PTE it may not write or a folio it cannot get; a file page it pins and then refuses — a write
    /// pin (gup_fast_folio_allowed()) or a read-only-mapped page (gup_must_unshare(NULL, ...)) — and gives back
    /// (VMSTAT-FAST-TRANSIENT). Pages it did take are taken the same way by the slow walk that follows, so only the
    /// refused pin is modelled here.
    /// </summary>
    protected virtual void GupFastLongTermPinPrefix(ulong start, long nrPages, long gupFlags)
    {
        var write = (gupFlags & FOLL_WRITE) != 0;
        for (long i = 0; i < nrPages; i++)
        {
            var addr = start + ((ulong)i << Sizes.PageShift);
            var vma = Mm.FindVma(addr);
            if (vma is null || (vma.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0)
            {
                return;
            }

            var page = FollowPage(vma, addr);
            var writable = vma.Kind == RegionKind.Anon || vma.WriteMapped.Contains(vma.PageIndex(addr));
            if (page.Folio.IsZeroPfn || (write && !writable) || FolioRefCount(page.Folio) <= 0)
            {
                return;
            }

            if (vma.Kind == RegionKind.File && (write || !writable))
            {
                if (TryGrabFolio(page.Folio, 1, gupFlags) == 0)
                {
                    GupPutFolio(page.Folio, 1, gupFlags);
                }

                return;
            }
        }
    }

    // ---- The walk ---------------------------------------------------------------------------------------------

    /// <summary>
    /// __get_user_pages_locked(). REF-IMPLIED-GET: if (pages &amp;&amp; !(flags &amp; FOLL_PIN)) flags |= FOLL_GET
    /// (2015: if (pages) flags |= FOLL_GET — the same word there, FOLL_PIN being 0).
    /// </summary>
    protected virtual long GetUserPagesLocked(ulong start, long nrPages, long gupFlags, PageArray? pages, int mm = 0)
    {
        if (pages is not null && (gupFlags & FOLL_PIN) == 0)
        {
            gupFlags |= FOLL_GET;
        }

        return GetUserPagesIn(mm, start, nrPages, gupFlags, pages);
    }

    /// <summary>
    /// __gup_longterm_locked() → __get_user_pages_locked() in mm <paramref name="mm"/>: a long-term pin goes through the
    /// migration loop (GUP-MIGRATE-*, Fixtures/Migration.cs), everything else is one walk.
    /// </summary>
    protected long GetUserPagesIn(int mm, ulong start, long nrPages, long gupFlags, PageArray? pages) =>
        IsMigratingLongtermPin(gupFlags, pages)
            ? GupLongtermLocked(mm, start, nrPages, gupFlags, pages!)
            : GetUserPagesOnce(mm, start, nrPages, gupFlags, pages);

    /// <summary>The part of __get_user_pages_locked() that concerns the mm: it is marked for a pin, then walked.</summary>
    protected long GetUserPagesOnce(int mm, ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        MmSetHasPinnedFlag(mm, gupFlags);
        _walkMm = mm;
        try
        {
            return GetUserPagesWalk(start, nrPages, gupFlags, pages);
        }
        finally
        {
            _walkMm = 0;
        }
    }

    /// <summary>The address space the walk in progress looks VMAs up in (GUP-REMOTE-TARGET-MM).</summary>
    private int _walkMm;

    /// <summary>The address space the walk in progress looks VMAs up in: a walk written anew (a broken one) looks there too.</summary>
    protected int WalkMm => _walkMm;

    /// <summary>mm_set_has_pinned_flag(&amp;mm-&gt;flags) for a FOLL_PIN call (GUP-PIN-MARKS-MM): set once, never cleared.</summary>
    protected virtual void MmSetHasPinnedFlag(int mm, long gupFlags)
    {
        if (Profile.HasMmPinnedFlag && (gupFlags & FOLL_PIN) != 0)
        {
            Mm.HasPinned[mm] = true;
        }
    }

    /// <summary>
    /// __get_user_pages(): entry by entry (the slow path's per-subpage behaviour up to 6.5). API-FAULT-HOLE,
    /// API-VMIO-PFNMAP, API-LONGTERM-FILE-WRITE via check_vma_flags(); ZERO-WRITE-FAULT / ZERO-LONGTERM-UNSHARE
    /// via faultin_page(); the grab with the sign check before each entry (OVF-SIGN-CHECK);
    /// GUP-PARTIAL-RESULT: an error at entry k &gt; 0 returns k, holding entries 0..k-1.
    /// REF-NO-PAGES-NO-REF: without FOLL_GET/FOLL_PIN nothing is grabbed; OVF-SIGN-CHECK-WITHOUT-GRAB: where
    /// try_grab_*() test the sign before the flags, the flag-less lookup still fails on a refcount &lt;= 0.
    /// </summary>
    protected virtual long GetUserPagesWalk(ulong start, long nrPages, long gupFlags, PageArray? pages)
    {
        var grab = (gupFlags & (FOLL_GET | FOLL_PIN)) != 0 || Profile.SignCheckWithoutGrab;
        for (long i = 0; i < nrPages; i++)
        {
            var addr = start + ((ulong)i << Sizes.PageShift);
            var vma = Mm.FindVma(addr, _walkMm);
            long err = vma is null ? -Errno.EFAULT : CheckVmaFlags(vma, gupFlags);
            if (err != 0)
            {
                return i > 0 ? i : err;
            }

            var page = FollowPageOrFault(vma!, addr, gupFlags);
            if (grab)
            {
                // Up to 6.5 the slow path grabs one subpage at a time (ctx.page_mask = 0 when pages != NULL).
                int ret = TryGrabFolio(page.Folio, 1, gupFlags);
                if (ret != 0)
                {
                    return i > 0 ? i : ret;
                }
            }

            pages?.Add(page);
        }

        return nrPages;
    }

    /// <summary>
    /// check_vma_flags(), for each VMA the walk enters (GUP-WALK-NEXT-VMA). API-VMIO-PFNMAP: VM_IO | VM_PFNMAP → -EFAULT
    /// for GET and PIN alike.
    /// API-LONGTERM-FILE-WRITE (6.5+): a FOLL_LONGTERM write pin of a dirty-tracked shared file mapping → -EFAULT.
    /// </summary>
    protected virtual long CheckVmaFlags(Vma vma, long gupFlags)
    {
        if ((vma.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0)
        {
            return -Errno.EFAULT;
        }

        // API-LONGTERM-P2PDMA, v6.2 only: the pgmap must stay hot-unpluggable (v6.3 moved this to is_valid_gup_args()).
        if (Profile.Validation == ValidationScheme.Legacy62 && FOLL_PCI_P2PDMA != 0
            && (gupFlags & (FOLL_LONGTERM | FOLL_PCI_P2PDMA)) == (FOLL_LONGTERM | FOLL_PCI_P2PDMA))
        {
            return -Errno.EOPNOTSUPP;
        }

        var longTermWritePin = FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE;
        if (Profile.RefusesLongTermFileWritePins && (vma.Flags & VmFlags.Anonymous) == 0
            && (gupFlags & longTermWritePin) == longTermWritePin)
        {
            return -Errno.EFAULT;
        }

        return 0;
    }

    /// <summary>
    /// FILE-WRITE-FAULT-DIRTY: a clean shared file page is mapped read-only; the write fault that can_follow_write_pte()
    /// forces dirties it (wp_page_shared() -> fault_dirty_shared_page() -> folio_mark_dirty()).
    /// </summary>
    protected virtual void WriteFaultSharedPage(Page page) => page.Folio.Dirty = true;

    /// <summary>
    /// follow_page_mask() + faultin_page(): a PTE mapping the zero page is replaced by a fresh folio when the
    /// access must not see the shared page (ZERO-WRITE-FAULT, ZERO-LONGTERM-UNSHARE); otherwise the current page.
    /// </summary>
    protected virtual Page FollowPageOrFault(Vma vma, ulong addr, long gupFlags)
    {
        var page = FollowPage(vma, addr);
        var write = (gupFlags & FOLL_WRITE) != 0;
        if (vma.Kind == RegionKind.File && write && vma.WriteMapped.Add(vma.PageIndex(addr)))
        {
            WriteFaultSharedPage(page);
        }

        if (vma.Kind == RegionKind.Zero && write)
        {
            // A write fault leaves the PTE writable (an unsharing fault maps the new page read-only).
            vma.WriteMapped.Add(vma.PageIndex(addr));
        }

        if (page.Folio.IsZeroPfn && GupMustBreakZeroPage(gupFlags))
        {
            var folio = FaultInZeroPte(vma, vma.PageIndex(addr));
            return new Page(folio, 0);
        }

        return page;
    }

    /// <summary>
    /// Whether a grab of the zero page must fault in a private page: FOLL_WRITE breaks COW (ZERO-WRITE-FAULT);
    /// from v6.2 gup_must_unshare()'s non-anon FOLL_LONGTERM clause unshares a R/O long-term pin
    /// (ZERO-LONGTERM-UNSHARE).
    /// </summary>
    protected virtual bool GupMustBreakZeroPage(long gupFlags)
    {
        if ((gupFlags & FOLL_WRITE) != 0)
        {
            return true;
        }

        return Profile.LongTermUnsharesZeroPage && (gupFlags & FOLL_PIN) != 0 && (gupFlags & FOLL_LONGTERM) != 0;
    }
}
