using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>The queries (CONTRACT §9): each check cites the rules that produced the value now held.</summary>
internal static class InspectStep
{
    /// <summary>
    /// folio_maybe_dma_pinned(): exact → pin count &gt; 0 (MDP-EXACT); else (unsigned)refcount &gt;= 1024
    /// (MDP-BIAS-THRESHOLD, and MDP-UNSIGNED-AFTER-WRAP when the refcount is negative). Null where the era has none.
    /// </summary>
    private static readonly IReadOnlyList<string> Exact = ["MDP-EXACT"];
    private static readonly IReadOnlyList<string> Threshold = ["MDP-BIAS-THRESHOLD"];
    private static readonly IReadOnlyList<string> ThresholdAfterWrap = ["MDP-BIAS-THRESHOLD", "MDP-UNSIGNED-AFTER-WRAP"];
    private static readonly IReadOnlyList<string> NoFalseNegative = ["MDP-NO-FALSE-NEGATIVE"];
    private static readonly IReadOnlyList<string> MarksMm = ["GUP-PIN-MARKS-MM"];
    private static readonly IReadOnlyList<string> MarksRemoteMm = ["GUP-PIN-MARKS-MM", "GUP-REMOTE-TARGET-MM"];

    public static (bool Value, IReadOnlyList<string> Rules)? MaybeDmaPinned(Profile p, FolioState f)
    {
        if (!p.HasMaybeDmaPinned)
        {
            return null;
        }

        if (!f.IsZero && FolioOps.HasExactPinCount(p, f.Order))
        {
            return (f.Pincount > 0, Exact);
        }

        return (unchecked((uint)f.Refcount) >= Sizes.GupPinCountingBias, f.Refcount < 0 ? ThresholdAfterWrap : Threshold);
    }

    /// <summary>Whether the pin count is reported: only for folios with an exact count (CONTRACT §2).</summary>
    public static bool ReportsPincount(Profile p, FolioState f) => !f.IsZero && FolioOps.HasExactPinCount(p, f.Order);

    public static FolioView View(Profile p, FolioState f) => new(
        f.Key,
        f.Order,
        f.Refcount,
        ReportsPincount(p, f) ? f.Pincount : null,
        MaybeDmaPinned(p, f)?.Value,
        f.IsZero ? null : f.Dirty,
        f.Pins);

    /// <summary>InspectFolio's outcome, or null when the state has no such folio (the command's precondition).</summary>
    public static StepOutcome? FolioOutcome(ModelState state, InspectFolio c) =>
        FolioAnswer(state, c) is { } a ? Again(state, a) : null;

    /// <summary>What <see cref="FolioOutcome"/> holds besides the unchanged state, without making an outcome.</summary>
    public static Expectation? FolioAnswer(ModelState state, InspectFolio c)
    {
        if (state.FindFolio(c.Folio) is not { } f)
        {
            return null;
        }

        var collateral = !state.WasTouchedLast(f.Key);
        if (f.Memo(state.Profile, collateral) is not { } memo)
        {
            // The checks depend on the folio's state, the profile and whether the last action addressed it: nothing
            // else of the state (KeptRule reads the region's kind, which never changes).
            memo = Remembered(state, f, collateral);
        }

        return memo.Expected;
    }

    // Apart from FolioAnswer so that its lambda's closure is only made when the memo misses, not on every inspection.
    private static InspectionMemo Remembered(ModelState state, FolioState f, bool collateral)
    {
        var memo = new InspectionMemo(f, state.Profile, collateral, Made(state, e => Folio(e, state, f, collateral)));
        f.Remember(memo);
        return memo;
    }

    /// <summary>A query's checks and exercised rules worked out in full (a query needs no working copy of the state: it
    /// changes nothing).</summary>
    private static Expectation Made(ModelState state, Action<Expecting> query)
    {
        var e = new Expecting(state.Profile);
        query(e);
        var (checks, exercised) = e.Expected();
        return new Expectation(checks, exercised);
    }

    /// <summary>A query's remembered checks, answered for <paramref name="state"/>.</summary>
    private static StepOutcome Again(ModelState state, Expectation answer) =>
        new(state, answer.Checks, answer.Exercised, StepContext.QueryChange);

    /// <summary>
    /// InspectFolio: refcount, pin count and dirty cite their provenance (CORE-NO-COLLATERAL if never changed);
    /// maybe_dma_pinned is checked twice while pins are outstanding: "true" (MDP-NO-FALSE-NEGATIVE) and the era's
    /// exact answer.
    /// </summary>
    private static void Folio(Expecting expect, ModelState state, FolioState f, bool collateral)
    {
        var p = state.Profile;
        var kept = KeptRule(state, f);
        expect.Check("refcount", StepContext.Num(f.Refcount), f.RefProv, collateral, kept);
        if (ReportsPincount(p, f))
        {
            expect.Check("pincount", StepContext.Num(f.Pincount), f.PinProv, collateral, kept);
        }

        if (MaybeDmaPinned(p, f) is var (value, rules))
        {
            if (f.Pins > 0 && value)
            {
                expect.Check("maybe_dma_pinned", "true", NoFalseNegative);
                expect.Exercise(NoFalseNegative);
            }

            expect.Check("maybe_dma_pinned", StepContext.Bool(value), rules);
            expect.Exercise(rules);
        }

        if (!f.IsZero)
        {
            expect.Check("dirty", StepContext.Bool(f.Dirty), f.DirtyProv, collateral, kept);
        }

        // A folio the previous command did not address must not have been changed by it (CORE-NO-COLLATERAL).
        if (collateral)
        {
            expect.Exercise("CORE-NO-COLLATERAL");
        }
    }

    /// <summary>
    /// ZERO-FAULTED-PAGE-KEPT: a folio a fault installed in a Zero region is reported as long as it lives, so every field
    /// of it also rests on its having been kept (an implementation that faults it in afresh reports a new, clean folio).
    /// </summary>
    private static string? KeptRule(ModelState state, FolioState f) =>
        !f.IsZero && ModelState.TryParseKey(f.Key, out var region, out _)
            && state.KnownRegion(region).Kind == RegionKind.Zero
            ? "ZERO-FAULTED-PAGE-KEPT"
            : null;

    /// <summary>
    /// ReadVmstat's outcome. Its checks depend on the two counters, their provenances and the profile, which most
    /// actions leave as they were: the last ones worked out are remembered (per thread, one entry).
    /// </summary>
    public static StepOutcome VmstatOutcome(ModelState state) => Again(state, VmstatAnswer(state));

    /// <summary>What <see cref="VmstatOutcome"/> holds besides the unchanged state, without making an outcome.</summary>
    public static Expectation VmstatAnswer(ModelState state)
    {
        if (t_vmstat is not { } m || !ReferenceEquals(m.Profile, state.Profile) || m.Acquired != state.Acquired || m.Released != state.Released
            || !ReferenceEquals(m.AcquiredProv, state.AcquiredProv) || !ReferenceEquals(m.ReleasedProv, state.ReleasedProv))
        {
            m = new VmstatMemo(state.Profile, state.Acquired, state.Released, state.AcquiredProv, state.ReleasedProv, Made(state, e => Vmstat(e, state)));
            t_vmstat = m;
        }

        return m.Expected;
    }

    /// <summary>InspectMm's outcome: its checks depend only on the profile, the address space and whether it is marked.</summary>
    public static StepOutcome MmOutcome(ModelState state, InspectMm c) => Again(state, MmAnswer(state, c));

    /// <summary>What <see cref="MmOutcome"/> holds besides the unchanged state, without making an outcome.</summary>
    public static Expectation MmAnswer(ModelState state, InspectMm c)
    {
        var slot = (c.Mm * 2) + (state.PinnedMms.Contains(c.Mm) ? 1 : 0);
        if (c.Mm is < 0 or > 1)
        {
            return Made(state, e => Mm(e, state, c));
        }

        if (t_mm is not { } memo || !ReferenceEquals(memo.Profile, state.Profile))
        {
            memo = (state.Profile, new Expectation?[4]);
            t_mm = memo;
        }

        return memo.Items[slot] ??= Made(state, e => Mm(e, state, c));
    }

    // Per thread: the profile last asked about, and per address space (0, 1) and mark (no, yes) its expectation.
    [ThreadStatic]
    private static (Profile Profile, Expectation?[] Items)? t_mm;

    private sealed record VmstatMemo(Profile Profile, long Acquired, long Released, Prov AcquiredProv, Prov ReleasedProv, Expectation Expected);

    [ThreadStatic]
    private static VmstatMemo? t_vmstat;


    /// <summary>ReadVmstat: each counter cites the rules that last changed or decided it.</summary>
    private static void Vmstat(Expecting expect, ModelState state)
    {
        expect.Check("nr_foll_pin_acquired", StepContext.Num(state.Acquired), state.AcquiredProv, false);
        expect.Check("nr_foll_pin_released", StepContext.Num(state.Released), state.ReleasedProv, false);
        expect.Exercise(state.AcquiredProv.Cite());
        expect.Exercise(state.ReleasedProv.Cite());
    }

    /// <summary>
    /// MMF_HAS_PINNED of one address space: set by the first FOLL_PIN call that walked it (GUP-PIN-MARKS-MM), which for
    /// the second address space can only be a *_remote call given it (GUP-REMOTE-TARGET-MM).
    /// </summary>
    private static void Mm(Expecting expect, ModelState state, InspectMm c)
    {
        var rules = c.Mm == 0 ? MarksMm : MarksRemoteMm;
        expect.Check("has_pinned", StepContext.Bool(state.PinnedMms.Contains(c.Mm)), rules);
        expect.Exercise(rules);
    }
}
