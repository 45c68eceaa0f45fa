using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// What argument validation and the fast entry checks decided, before anything is walked: <see cref="Passed"/> are the
/// era rules that let the flags through (they decide that the call reaches the walk at all, so every result cites
/// them); <see cref="ImpliedGet"/> says FOLL_GET was implied (REF-IMPLIED-GET), which decides what is held.
/// </summary>
/// <summary>
/// Whether a call got through its argument checks (or was refused only after the point where GUP marks the mm as having
/// pinned: the fast path's range checks, <paramref name="PastMark"/>), what it will hold and the rules it passed.
/// </summary>
internal sealed record Admission(bool Refused, long Result, List<string> Rules, Foll Effective, List<string> Passed, bool ImpliedGet = false, bool PastMark = false);

/// <summary>The outcome of one GUP call: the result, the entries held, and the rules each observed value rests on.</summary>
internal sealed record GupCall(long Result, ImmutableList<EntryRun> Entries, List<string> ResultRules, List<string> Exercised);

/// <summary>
/// The GUP entry points (mm/gup.c): argument validation by era (CONTRACT §3.1), the fast entry checks (§3.2),
/// implied FOLL_GET (§3.3) and the walk (§3.4).
/// </summary>
internal static class GupCore
{
    /// <summary>TASK_SIZE_MAX of x86-64 with 4-level paging.</summary>
    public const ulong TaskSizeMax = 0x7FFFFFFFF000;

    /// <summary>
    /// Flags the model does not give a meaning to once a call reaches the walk (CONTRACT §3, invalid commands).
    /// FOLL_PCI_P2PDMA is not among them: on memory that holds no P2PDMA page it changes nothing (try_grab_folio()
    /// refuses only a P2PDMA folio without it), and with FOLL_LONGTERM it is refused (API-LONGTERM-P2PDMA).
    /// </summary>
    public const Foll Unmodelled = Foll.Dump | Foll.NoWait | Foll.NoFault | Foll.HwPoison | Foll.Anon | Foll.SplitPmd
        | Foll.Interruptible | Foll.HonorNumaFault;

    /// <summary>v6.2 check_vma_flags(): a long-term pin that asks for P2PDMA pages is refused at the first VMA walked.</summary>
    public static bool RefusesLongTermP2pAtVma(Profile p, Foll flags) =>
        p.Validation == ValidationScheme.Legacy62 && flags.Has(Foll.LongTerm | Foll.PciP2pDma);

    /// <summary>Flags only mm/ may set before is_valid_gup_args() existed; callers passing them are not modelled.</summary>
    public const Foll LegacyInternal = Foll.Tried | Foll.Remote | Foll.FastOnly | Foll.Unlockable;

    public static bool IsFastOnly(EntryPoint e) => e is EntryPoint.GetUserPagesFastOnly or EntryPoint.PinUserPagesFastOnly;

    /// <summary>The entry points given an mm by their caller (GUP-REMOTE-TARGET-MM); every other one walks current-&gt;mm.</summary>
    public static bool IsRemote(EntryPoint e) => e is EntryPoint.GetUserPagesRemote or EntryPoint.PinUserPagesRemote;


    /// <summary>
    /// Validation then, for fast entry points, the flag mask (API-FAST-FLAG-MASK), the range overflow
    /// (API-FAST-RANGE-OVERFLOW) and the TASK_SIZE_MAX check. Pure: Precondition uses it too.
    /// </summary>
    public static Admission Admit(Profile p, EntryPoint e, ulong start, long nrPages, Foll flags, bool withPages, int? locked = null)
    {
        var passed = new List<string>();
        var (refusal, effective) = Validate(p, e, flags, withPages, passed, locked);
        if (refusal is { } r)
        {
            return new Admission(true, r.Result, r.Rules, effective, passed);
        }

        if (e.IsFast())
        {
            // The era rules that let the flags through decided that the call got this far instead of -EINVAL, so a
            // refusal of the fast checks cites them too (as a walk error does).
            if ((effective & ~p.FastAccepted) != 0)
            {
                return new Admission(true, -Errno.EINVAL, [.. passed, "API-FAST-FLAG-MASK"], effective, passed);
            }

            var end = (UInt128)start + ((UInt128)(ulong)nrPages * (ulong)Sizes.PageSize);
            if (end > ulong.MaxValue)
            {
                // mm_set_has_pinned_flag() ran just before this check (GUP-PIN-MARKS-MM).
                return new Admission(true, p.FastRangeOverflowResult, [.. passed, "API-FAST-RANGE-OVERFLOW"], effective, passed, PastMark: true);
            }

            if (end > TaskSizeMax)
            {
                return new Admission(true, -Errno.EFAULT, [.. passed, "API-FAULT-HOLE"], effective, passed, PastMark: true);
            }
        }

        // REF-IMPLIED-GET: __get_user_pages_locked(): if (pages && !(flags & FOLL_PIN)) flags |= FOLL_GET.
        // Only a get_* call that did not ask for FOLL_GET itself relies on the implication.
        if (withPages && !effective.Has(Foll.Pin) && !effective.Has(Foll.Get))
        {
            return new Admission(false, 0, [], effective | Foll.Get, passed, ImpliedGet: true);
        }

        return new Admission(false, 0, [], effective, passed);
    }

    private static ((long Result, List<string> Rules)? Refusal, Foll Effective) Validate(Profile p, EntryPoint e, Foll flags, bool withPages, List<string> passed, int? locked)
    {
        return p.Validation switch
        {
            ValidationScheme.PrePin => (null, flags | EntryFlags(e)),
            ValidationScheme.ValidGupArgs63 or ValidationScheme.ValidGupArgs68 => ValidGupArgs(p, e, flags, withPages, passed, locked),
            _ => Legacy(p, e, flags, withPages, passed, locked),
        };
    }

    /// <summary>What a pre-6.3 entry point ORs in after its own checks.</summary>
    private static Foll EntryFlags(EntryPoint e) => e switch
    {
        EntryPoint.GetUserPagesFast => Foll.Get,
        EntryPoint.GetUserPagesFastOnly => Foll.Get | Foll.FastOnly,
        EntryPoint.PinUserPagesFastOnly => Foll.Pin | Foll.FastOnly,
        _ when e.IsPin() => Foll.Pin,
        _ => Foll.None,
    };

    /// <summary>
    /// v5.6–v6.2 WARN_ON_ONCE guards: pin_* refuse FOLL_GET (API-PIN-GET-EXCLUSIVE); get_user_pages[_remote|_fast]
    /// refuse FOLL_PIN (API-GET-REFUSES-PIN) and, from is_valid_gup_flags(), FOLL_LONGTERM (API-LONGTERM-NEEDS-PIN;
    /// before it API-LONGTERM-GET-LEGACY); up to v6.1 the _unlocked calls refuse FOLL_LONGTERM
    /// (API-UNLOCKED-LONGTERM), while in v6.2 get_user_pages_unlocked() goes through __gup_longterm_locked(), which
    /// refuses FOLL_LONGTERM only without FOLL_PIN (API-LONGTERM-NEEDS-PIN) — so a long-term pin_user_pages_unlocked()
    /// is walked; v6.2 pin_* and 6.1.y every pin_* entry refuse a NULL pages array (API-PAGES-REQUIRED). All return
    /// -EINVAL (API-PIN-RETURNS-ZERO names the era's convention; *_fast_only turn it into 0).
    /// </summary>
    private static ((long, List<string>)?, Foll) Legacy(Profile p, EntryPoint e, Foll flags, bool withPages, List<string> passed, int? locked)
    {
        var getGroup = e is EntryPoint.GetUserPages or EntryPoint.GetUserPagesRemote or EntryPoint.GetUserPagesFast;
        var legacy62 = p.Validation == ValidationScheme.Legacy62;
        string? refused = null;
        if (e.IsPin() && flags.Has(Foll.Get))
        {
            refused = "API-PIN-GET-EXCLUSIVE";
        }
        else if (p.Validation == ValidationScheme.Legacy61Stable && e.IsPin() && !withPages)
        {
            // 6.1.192 mm/gup.c: every pin_* entry checks WARN_ON_ONCE(!pages) right after FOLL_GET, before
            // pin_user_pages_unlocked() reaches get_user_pages_unlocked()'s FOLL_LONGTERM check.
            refused = "API-PAGES-REQUIRED";
        }
        else if (getGroup && flags.Has(Foll.Pin))
        {
            refused = "API-GET-REFUSES-PIN";
        }
        else if (getGroup && flags.Has(Foll.LongTerm) && p.Validation != ValidationScheme.Legacy57)
        {
            refused = "API-LONGTERM-NEEDS-PIN";
        }
        else if (legacy62 && e.IsPin() && !withPages)
        {
            refused = "API-PAGES-REQUIRED";
        }
        else if (legacy62 && e == EntryPoint.GetUserPagesUnlocked && flags.Has(Foll.LongTerm) && !flags.Has(Foll.Pin))
        {
            // __gup_longterm_locked(): WARN_ON(!(gup_flags & FOLL_PIN)) → -EINVAL.
            refused = "API-LONGTERM-NEEDS-PIN";
        }
        else if (!legacy62 && e.IsUnlocked() && flags.Has(Foll.LongTerm))
        {
            refused = "API-UNLOCKED-LONGTERM";
        }
        else if (locked is not null && flags.Has(Foll.LongTerm))
        {
            // __get_user_pages_remote(): FOLL_LONGTERM went to __gup_longterm_locked(), which had no locked argument.
            refused = "API-LOCKED-LONGTERM-LEGACY";
        }

        if (refused is not null)
        {
            return ((-Errno.EINVAL, [refused, "API-PIN-RETURNS-ZERO"]), flags);
        }

        if (!e.IsPin() && flags.Has(Foll.LongTerm))
        {
            passed.Add("API-LONGTERM-GET-LEGACY");
        }

        return (null, flags | EntryFlags(e));
    }

    /// <summary>
    /// is_valid_gup_args() (v6.3+), in its order: internal flags (API-INTERNAL-FLAGS, API-GET-REFUSES-PIN; FOLL_TOUCH
    /// only from v6.8, API-TOUCH-ACCEPTED-LEGACY before), to_set, PIN+GET (API-PIN-GET-EXCLUSIVE), LONGTERM without
    /// PIN (API-LONGTERM-NEEDS-PIN), GET/PIN without pages (API-PAGES-REQUIRED), LONGTERM+PCI_P2PDMA
    /// (API-LONGTERM-P2PDMA). A refusal
    /// returns 0 from the three slow pin_* calls and -EINVAL elsewhere (API-PIN-RETURNS-ZERO).
    /// </summary>
    private static ((long, List<string>)?, Foll) ValidGupArgs(Profile p, EntryPoint e, Foll flags, bool withPages, List<string> passed, int? locked)
    {
        var returnsZero = e is EntryPoint.PinUserPages or EntryPoint.PinUserPagesRemote or EntryPoint.PinUserPagesUnlocked;
        var refusal = (long)(returnsZero ? 0 : -Errno.EINVAL);
        var internalFlags = Foll.Pin | Foll.Tried | Foll.Unlockable | Foll.Remote | Foll.FastOnly;
        if (p.Validation == ValidationScheme.ValidGupArgs68)
        {
            internalFlags |= Foll.Touch | (p.Flags.Exists(Foll.MadvPopulate) ? Foll.MadvPopulate : Foll.None);
        }

        if ((flags & internalFlags) != 0)
        {
            List<string> rules = ["API-INTERNAL-FLAGS", "API-PIN-RETURNS-ZERO"];
            if (flags.Has(Foll.Pin) && !e.IsPin())
            {
                rules.Add("API-GET-REFUSES-PIN");
            }

            return ((refusal, rules), flags);
        }

        if (flags.Has(Foll.Touch))
        {
            passed.Add("API-TOUCH-ACCEPTED-LEGACY");
        }

        var f = flags | e switch
        {
            EntryPoint.GetUserPages => Foll.Touch,
            EntryPoint.GetUserPagesRemote => Foll.Touch | Foll.Remote,
            EntryPoint.GetUserPagesUnlocked => Foll.Touch | Foll.Unlockable,
            EntryPoint.GetUserPagesFast => Foll.Get,
            EntryPoint.GetUserPagesFastOnly => Foll.Get | Foll.FastOnly,
            EntryPoint.PinUserPagesRemote => Foll.Pin | Foll.Touch | Foll.Remote,
            EntryPoint.PinUserPagesUnlocked => Foll.Pin | Foll.Touch | Foll.Unlockable,
            _ => Foll.Pin,
        };
        string? refused = null;
        if (locked is not null && locked != 1)
        {
            // Right after to_set: "At the external interface locked must be set".
            refused = "API-LOCKED-MUST-BE-SET";
        }
        else if (f.Has(Foll.Pin) && f.Has(Foll.Get))
        {
            refused = "API-PIN-GET-EXCLUSIVE";
        }
        else if (f.Has(Foll.LongTerm) && !f.Has(Foll.Pin))
        {
            refused = "API-LONGTERM-NEEDS-PIN";
        }
        else if (f.Any(Foll.Get | Foll.Pin) && !withPages)
        {
            refused = "API-PAGES-REQUIRED";
        }
        else if (f.Has(Foll.LongTerm) && f.Has(Foll.PciP2pDma))
        {
            refused = "API-LONGTERM-P2PDMA";
        }

        return refused is null ? (null, f) : ((refusal, [refused, "API-PIN-RETURNS-ZERO"]), f);
    }

    /// <summary>
    /// A whole GUP call: admission, then the walk with FOLL_GET (Ref), FOLL_PIN (Pin) or neither (None), then the
    /// return convention: an error only with nothing held (GUP-PARTIAL-RESULT); *_fast_only never falls back to the
    /// slow path, so a walk failure returns the count so far, and before v6.3 a negative result is returned as 0.
    /// </summary>
    public static GupCall Call(StepContext ctx, EntryPoint e, ulong start, long nrPages, Foll flags, bool withPages, IReadOnlyList<string>? cause = null, int mm = 0, int? locked = null)
    {
        var p = ctx.Profile;
        var adm = Admit(p, e, start, nrPages, flags, withPages, locked);
        var fastOnly = IsFastOnly(e);
        MarkHasPinned(ctx, adm, mm);
        if (adm.Refused)
        {
            var refused = fastOnly && !p.HasValidGupArgs && adm.Result < 0 ? 0 : adm.Result;
            return new GupCall(refused, [], adm.Rules, [.. adm.Rules]);
        }

        var eff = adm.Effective;
        var hold = eff.Has(Foll.Pin) ? Hold.Pin : eff.Has(Foll.Get) ? Hold.Ref : Hold.None;
        // A reference that exists only because FOLL_GET was implied rests on REF-IMPLIED-GET as well.
        // A consumer (extraction, frame vector, bio, netfs) passes its own rule as the cause of what it grabs.
        List<string> causes = [.. cause ?? []];
        List<string> implied = adm.ImpliedGet ? ["REF-IMPLIED-GET"] : [];
        causes.AddRange(implied);

        var transient = false;
        if (p.FastPinTransients && e.IsFast() && eff.Has(Foll.Pin | Foll.LongTerm))
        {
            transient = FastTransient(ctx, start, nrPages, eff);
        }

        var walk = Walk(ctx, start, nrPages, eff, hold, causes.Count > 0 ? causes : null, mm);
        if (p.MigratesLongtermMovable && eff.Has(Foll.Pin | Foll.LongTerm) && !fastOnly)
        {
            // __gup_longterm_locked(): GUP-fast took the pages before the first movable one; the slow walk the rest.
            var fastPrefix = e.IsFast() ? LongtermMigration.FirstMovable(ctx.Regions, start, nrPages, mm) ?? nrPages : 0;
            walk = LongtermMigration.Settle(ctx, walk, fastPrefix, start, nrPages, eff, hold, causes.Count > 0 ? causes : null, mm);
        }

        // A walk error is still a result of admission: an era rule that let the flags through (a caller's FOLL_TOUCH
        // in 6.3–6.5, a long-term get before 5.11) decided that this call reached the walk instead of -EINVAL, so
        // an error result cites it too. REF-IMPLIED-GET decides what is held, not whether there is an error.
        var admitted = adm.Passed;
        var exercised = new List<string>([.. admitted, .. implied]);
        exercised.AddRange(walk.Rules);
        if (transient)
        {
            exercised.Add("VMSTAT-FAST-TRANSIENT");
        }
        List<string> resultRules;
        long result;
        if (walk.Error is not { } err)
        {
            result = nrPages;
            // What the walk held comes before why it was a reference (REF-IMPLIED-GET only says FOLL_GET was implied).
            resultRules = [.. admitted, .. walk.Rules, .. implied];
            if (resultRules.Remove("GUP-WALK-NEXT-VMA"))
            {
                // How many entries a walk over several VMAs returns is decided by its going on into the next one.
                resultRules.Insert(0, "GUP-WALK-NEXT-VMA");
            }
        }
        else if (walk.Done > 0 || fastOnly)
        {
            result = walk.Done;
            resultRules = walk.Done > 0 ? ["GUP-PARTIAL-RESULT", .. admitted, .. walk.ErrorRules] : [.. admitted, .. walk.ErrorRules];
            exercised.AddRange(resultRules);
        }
        else
        {
            result = err;
            resultRules = [.. admitted, .. walk.ErrorRules];
            exercised.AddRange(resultRules);
        }

        return new GupCall(result, walk.Entries, resultRules, exercised);
    }

    /// <summary>
    /// GUP-fast's lockless walk ahead of the slow one, for a FOLL_LONGTERM pin: it stops at the first page it cannot
    /// take without the VMA — a hole or special PTE, a PTE it may not write, a folio it cannot get — and for a file page
    /// it first pins and then refuses (a write pin, or a read-only-mapped page), giving the pin back: one count in
    /// each pin counter (VMSTAT-FAST-TRANSIENT), and true. The slow walk then does what the model's walk does.
    /// </summary>
    private static bool FastTransient(StepContext ctx, ulong start, long nrPages, Foll flags)
    {
        var write = flags.Has(Foll.Write);
        for (long i = 0; i < nrPages; i++)
        {
            var addr = start + ((ulong)i * (ulong)Sizes.PageSize);
            var r = ctx.RegionAt(addr);
            if (r is null || r.IsVmIoOrPfnMap)
            {
                return false;
            }

            var page = (long)((addr - r.Start) / (ulong)Sizes.PageSize);
            var h = Memory.PageOf(r, page);
            if (r.IsMovable(page >> r.Order))
            {
                // try_grab_folio_fast() refuses a folio that is not longterm-pinnable before it counts the pin.
                return false;
            }

            var writable = r.Kind == RegionKind.Anon || r.WriteMapped.Contains(page);
            if (h.Folio == FolioState.ZeroKey || (write && !writable) || ctx.Folio(h.Folio).Refcount <= 0)
            {
                return false;
            }

            if (r.Kind == RegionKind.File && (write || !writable))
            {
                ctx.Acquired += 1;
                ctx.AcquiredProv = ctx.AcquiredProv.Change(ctx.StepNo, ["VMSTAT-FAST-TRANSIENT"]);
                ctx.Released += 1;
                ctx.ReleasedProv = ctx.ReleasedProv.Change(ctx.StepNo, ["VMSTAT-FAST-TRANSIENT"]);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// mm_set_has_pinned_flag(): a FOLL_PIN call past its argument checks (or refused only by the fast path's range
    /// checks, which come after it) marks the mm it walks — the one given to *_remote, current-&gt;mm otherwise — before
    /// a page is looked at (GUP-PIN-MARKS-MM). Only an inspection of the mm exercises the rule: a run without the
    /// RemoteMm facet never sees the flag.
    /// </summary>
    private static void MarkHasPinned(StepContext ctx, Admission adm, int mm)
    {
        if (ctx.Profile.HasMmPinnedFlag && adm.Effective.Has(Foll.Pin) && (!adm.Refused || adm.PastMark))
        {
            ctx.PinnedMms = ctx.PinnedMms.Add(mm);
        }
    }

    /// <summary>What a walk did: entries grabbed, and the error that stopped it (if any).</summary>
    internal sealed record WalkResult(long Done, long? Error, List<string> ErrorRules, ImmutableList<EntryRun> Entries, List<string> Rules);

    /// <summary>
    /// __get_user_pages(): entry by entry from <paramref name="start"/>, continuing from one VMA into the next
    /// (GUP-WALK-NEXT-VMA: the next VMA is looked up and its flags checked afresh). A hole is -EFAULT
    /// (API-FAULT-HOLE), VM_IO|VM_PFNMAP -EFAULT (API-VMIO-PFNMAP), a v6.2 long-term P2PDMA pin -EOPNOTSUPP
    /// (API-LONGTERM-P2PDMA), a long-term write pin of a file mapping -EFAULT where refused (API-LONGTERM-FILE-WRITE);
    /// zero-page PTEs are faulted first for FOLL_WRITE (ZERO-WRITE-FAULT) and R/O long-term pins where unshared
    /// (ZERO-LONGTERM-UNSHARE), a page such a fault put there is kept (ZERO-FAULTED-PAGE-KEPT); a failed sign check is
    /// -ENOMEM (OVF-SIGN-CHECK). Cost is per region and per folio, never per page of a large folio.
    /// </summary>
    public static WalkResult Walk(StepContext ctx, ulong start, long nrPages, Foll flags, Hold hold, IReadOnlyList<string>? cause = null, int mm = 0)
    {
        var p = ctx.Profile;
        var entries = ImmutableList.CreateBuilder<EntryRun>();
        var rules = new List<string>();
        long done = 0;
        var addr = start;
        List<string> causes = [.. cause ?? []];
        if (mm != 0)
        {
            // Every VMA is looked up in the mm the caller gave: what the walk finds there rests on that.
            causes.Add("GUP-REMOTE-TARGET-MM");
            rules.Add("GUP-REMOTE-TARGET-MM");
        }

        var vmas = 0;
        while (done < nrPages)
        {
            // A lookup after the first is the walk crossing a VMA boundary: what it finds there rests on that rule too.
            if (vmas++ == 1)
            {
                causes.Add("GUP-WALK-NEXT-VMA");
                rules.Add("GUP-WALK-NEXT-VMA");
            }

            List<string> Fail(string rule) => (vmas > 1, mm != 0) switch
            {
                (true, true) => [rule, "GUP-WALK-NEXT-VMA", "GUP-REMOTE-TARGET-MM"],
                (true, false) => [rule, "GUP-WALK-NEXT-VMA"],
                (false, true) => [rule, "GUP-REMOTE-TARGET-MM"],
                _ => [rule],
            };
            var r = ctx.RegionAt(addr, mm);
            if (r is null)
            {
                return new WalkResult(done, -Errno.EFAULT, Fail("API-FAULT-HOLE"), entries.ToImmutable(), rules);
            }

            if (r.IsVmIoOrPfnMap)
            {
                return new WalkResult(done, -Errno.EFAULT, Fail("API-VMIO-PFNMAP"), entries.ToImmutable(), rules);
            }

            if (RefusesLongTermP2pAtVma(p, flags))
            {
                return new WalkResult(done, -Errno.EOPNOTSUPP, Fail("API-LONGTERM-P2PDMA"), entries.ToImmutable(), rules);
            }

            if (r.Kind == RegionKind.File && p.RefusesLongTermFileWritePins && flags.Has(Foll.Pin | Foll.LongTerm | Foll.Write))
            {
                return new WalkResult(done, -Errno.EFAULT, Fail("API-LONGTERM-FILE-WRITE"), entries.ToImmutable(), rules);
            }

            var page = (long)((addr - r.Start) / (ulong)Sizes.PageSize);
            var want = Math.Min(r.Pages - page, nrPages - done);
            var why = causes.Count > 0 ? causes : null;
            var got = r.Kind == RegionKind.Zero
                ? WalkZero(ctx, r.Id, page, want, flags, hold, entries, rules, why)
                : WalkFolios(ctx, r.Id, page, want, flags, hold, entries, rules, why);
            done += got;
            addr += (ulong)got * (ulong)Sizes.PageSize;
            if (got < want)
            {
                return new WalkResult(done, -Errno.ENOMEM, [hold == Hold.None ? "OVF-SIGN-CHECK-WITHOUT-GRAB" : "OVF-SIGN-CHECK"], entries.ToImmutable(), rules);
            }
        }

        return new WalkResult(done, null, [], entries.ToImmutable(), rules);
    }

    /// <summary>
    /// Anon and File regions: one grab per folio for all its entries in range. A FOLL_WRITE walk write-faults a
    /// read-only file page first (FILE-WRITE-FAULT-DIRTY), before its grab, so it is dirty even if the grab fails.
    /// </summary>
    private static long WalkFolios(StepContext ctx, int regionId, long page, long want, Foll flags, Hold hold, ImmutableList<EntryRun>.Builder entries, List<string> rules, IReadOnlyList<string>? cause)
    {
        long got = 0;
        while (got < want)
        {
            var r = ctx.RegionById(regionId);
            if (r.Kind == RegionKind.File && flags.Has(Foll.Write))
            {
                Memory.WriteFault(ctx, r, page + got, rules);
                r = ctx.RegionById(regionId);
            }

            var h = Memory.PageOf(r, page + got);
            var inFolio = Math.Min(want - got, r.FolioPages - h.Index);
            var n = FolioOps.Grab(ctx, h.Folio, inFolio, hold, rules, cause);
            Memory.Append(entries, h.Folio, h.Index, n, hold);
            got += n;
            if (n < inFolio)
            {
                break;
            }
        }

        return got;
    }

    /// <summary>Zero regions, page by page: each page is the zero page or the folio a fault put there.</summary>
    private static long WalkZero(StepContext ctx, int regionId, long page, long want, Foll flags, Hold hold, ImmutableList<EntryRun>.Builder entries, List<string> rules, IReadOnlyList<string>? implied)
    {
        var p = ctx.Profile;
        var write = flags.Has(Foll.Write);
        var unshare = !write && flags.Has(Foll.Pin | Foll.LongTerm) && p.LongTermUnsharesZeroPage;
        long got = 0;
        for (; got < want; got++)
        {
            var r = ctx.RegionById(regionId);
            var h = Memory.PageOf(r, page + got);
            List<string> cause = [.. implied ?? []];
            if (h.Folio == FolioState.ZeroKey && (write || unshare))
            {
                var rule = write ? "ZERO-WRITE-FAULT" : "ZERO-LONGTERM-UNSHARE";
                h = new PageHandle(Memory.Fault(ctx, r, page + got, rule), 0);
                cause.Add(rule);
                rules.Add(rule);
            }
            else if (h.Folio != FolioState.ZeroKey)
            {
                // An earlier fault put this page here: it is found as it is, whatever this walk asks for. An unshared
                // page is mapped read-only, so a write walk write-faults it first, reusing it (it is exclusive).
                cause.Add("ZERO-FAULTED-PAGE-KEPT");
                rules.Add("ZERO-FAULTED-PAGE-KEPT");
                if (write)
                {
                    Memory.WriteFault(ctx, r, page + got, rules);
                }
            }

            var n = FolioOps.Grab(ctx, h.Folio, 1, hold, rules, cause);
            Memory.Append(entries, h.Folio, h.Index, n, hold);
            if (n < 1)
            {
                break;
            }
        }

        return got;
    }
}

/// <summary>The Gup command: one call, its array remembered, its result and pages checked.</summary>
internal static class GupStep
{
    public static void Run(StepContext ctx, Gup c)
    {
        var call = GupCore.Call(ctx, c.Entry, c.Start, c.NrPages, c.Flags, c.WithPages, mm: c.Mm, locked: c.Locked);
        ctx.SetArray(c.Call, ArrayState.Of(call.Entries));
        ctx.Check("result", Errno.Describe(call.Result), call.ResultRules);
        if (c.WithPages)
        {
            ctx.Check("pages", Memory.Render(call.Entries), call.ResultRules);
        }

        ctx.Exercise(call.Exercised);
        ctx.Note($"{c.Entry.KernelName()} → {Errno.Describe(call.Result)} (array {StepContext.Num(c.Call)})");
    }
}
