using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>How a FOLL_PIN is accounted on one folio in one era.</summary>
internal enum PinKind
{
    /// <summary>v5.6: a pin is one plain reference.</summary>
    PlusOne,

    /// <summary>v6.5+: the shared zero page is returned but never pinned.</summary>
    ZeroNoop,

    /// <summary>The folio keeps an exact pin count: refcount +1 and pin count +1 per entry.</summary>
    Exact,

    /// <summary>GUP_PIN_COUNTING_BIAS: refcount +1024 per entry.</summary>
    Bias,
}

/// <summary>
/// The folio primitives, one place per invariant: <see cref="HasExactPinCount"/> decides the accounting for grab,
/// release, folio_add_pin and inspection alike; <see cref="Grab"/> is try_grab_folio(); <see cref="PutFolio"/>
/// is gup_put_folio() / put_page(), the exact inverse.
/// </summary>
internal static class FolioOps
{
    /// <summary>
    /// Whether an order-<paramref name="order"/> folio keeps an exact pin count in this era (CONTRACT §2):
    /// hpage_pincount_available() (PIN-BIAS-ORDER1-LEGACY), folio_test_large() (PIN-EXACT-ORDER1) or
    /// folio_has_pincount() (PIN-BIAS-ORDER1-32BIT); PIN-EXACT-LARGE for order &gt; 1 in every pinning era.
    /// </summary>
    public static bool HasExactPinCount(Profile p, int order) => p.Pins switch
    {
        PinScheme.ExactAboveOrder1 => order > 1,
        PinScheme.ExactAllLarge => order >= 1,
        PinScheme.FolioHasPincount => p.Is64Bit ? order >= 1 : order > 1,
        _ => false,
    };

    /// <summary>The accounting of a pin on <paramref name="f"/> (ZERO-NOT-PINNED, PIN-PLACEHOLDER-PLUS-ONE, exact or bias).</summary>
    public static PinKind KindOf(Profile p, FolioState f)
    {
        if (p.Pins == PinScheme.PlusOne)
        {
            return PinKind.PlusOne;
        }

        if (f.IsZero && !p.ZeroPagePinned)
        {
            return PinKind.ZeroNoop;
        }

        return HasExactPinCount(p, f.Order) ? PinKind.Exact : PinKind.Bias;
    }

    /// <summary>Refcount units one pin entry adds: 1 (plus-one, exact), 1024 (bias) or 0 (the unpinned zero page).</summary>
    public static int PinUnit(PinKind k) => k switch
    {
        PinKind.Bias => Sizes.GupPinCountingBias,
        PinKind.ZeroNoop => 0,
        _ => 1,
    };

    /// <summary>The rule ids naming how a pin is accounted on <paramref name="f"/> (PIN-* and ZERO-* for the zero page).</summary>
    public static List<string> PinRules(Profile p, FolioState f)
    {
        var kind = KindOf(p, f);
        var rules = new List<string>();
        switch (kind)
        {
            case PinKind.PlusOne:
                rules.Add("PIN-PLACEHOLDER-PLUS-ONE");
                break;
            case PinKind.ZeroNoop:
                rules.Add("ZERO-NOT-PINNED");
                break;
            case PinKind.Exact:
                rules.Add(f.Order > 1 ? "PIN-EXACT-LARGE" : "PIN-EXACT-ORDER1");
                break;
            default:
                rules.Add(f.Order switch
                {
                    0 => "PIN-BIAS-SMALL",
                    1 when p.Pins == PinScheme.ExactAboveOrder1 => "PIN-BIAS-ORDER1-LEGACY",
                    _ => "PIN-BIAS-ORDER1-32BIT",
                });
                break;
        }

        if (f.IsZero && kind != PinKind.ZeroNoop)
        {
            rules.Add("ZERO-PINNED-LEGACY");
        }

        return rules;
    }

    private static readonly string[] ZeroNotPinned = ["ZERO-NOT-PINNED"];
    private static readonly string[] NoPagesNoRef = ["REF-NO-PAGES-NO-REF"];

    /// <summary>The change ZERO-NOT-PINNED prevents on the zero page: <paramref name="entries"/> pins (+1) or unpins (-1)
    /// of a small page, 1024 each.</summary>
    private static CountShare ZeroSkipped(long entries, int sign) => new(entries, sign * Sizes.GupPinCountingBias, ZeroNotPinned, [], []);

    /// <summary>A change of <paramref name="entries"/> × <paramref name="unit"/> made for <paramref name="due"/> under the
    /// rules <paramref name="why"/> (which include <paramref name="due"/>): see <see cref="CountShare"/>. The gate rules say
    /// the operation applies to this folio at all (the zero page not skipped): a change left out is theirs first.</summary>
    private static CountShare ShareOf(long entries, long unit, List<string> why, List<string> due)
    {
        // Made for every grab and release: plain loops over lists of a few ids.
        List<string>? amount = null;
        List<string>? gate = null;
        foreach (var id in why)
        {
            if (due.Contains(id))
            {
                continue;
            }

            if (id is "ZERO-PINNED-LEGACY" or "ZERO-GET-COUNTS")
            {
                (gate ??= []).Add(id);
            }
            else
            {
                (amount ??= []).Add(id);
            }
        }

        return new(entries, unit, due.Count == 0 ? [] : [.. due], amount ?? (IReadOnlyList<string>)[], gate ?? (IReadOnlyList<string>)[]);
    }

    /// <summary>
    /// try_grab_folio(folio, refs, flags) entry by entry: before each entry the sign check (OVF-SIGN-CHECK: a
    /// refcount &lt;= 0 fails), then the add without saturation (OVF-NO-SATURATION). FOLL_GET: +1
    /// (REF-GET-PLUS-ONE, ZERO-GET-COUNTS, REF-LARGE-FOLIO-HEAD on the folio, never a tail page); FOLL_PIN: <see cref="KindOf"/> and nr_foll_pin_acquired += entries
    /// (VMSTAT-ACQ-PER-ENTRY; VMSTAT-GET-INVISIBLE for refs). Returns how many of <paramref name="refs"/> entries
    /// were grabbed; <paramref name="rules"/> collects the rules of the branches taken.
    /// </summary>
    public static long Grab(StepContext ctx, string key, long refs, Hold hold, ICollection<string> rules, IEnumerable<string>? cause = null)
    {
        var p = ctx.Profile;
        var f = ctx.Folio(key);
        ctx.Touch(key);
        var extra = cause?.ToList() ?? [];
        if (hold == Hold.None)
        {
            if (p.SignCheckWithoutGrab && f.Refcount <= 0)
            {
                // try_grab_page()/try_grab_folio() test the sign before the flags: the lookup fails (-ENOMEM).
                ctx.Put(f with { RefProv = f.RefProv.Decide(["OVF-SIGN-CHECK-WITHOUT-GRAB"]) });
                rules.Add("OVF-SIGN-CHECK-WITHOUT-GRAB");
                return 0;
            }

            // Neither FOLL_GET nor FOLL_PIN: the walk only faults pages in (a reference kept would be +1 per entry).
            ctx.Put(f with { RefProv = f.RefProv.Decide(["REF-NO-PAGES-NO-REF"], new CountShare(refs, 1, NoPagesNoRef, [], [])) });
            rules.Add("REF-NO-PAGES-NO-REF");
            return refs;
        }

        var kind = hold == Hold.Pin ? KindOf(p, f) : PinKind.PlusOne;
        var unit = hold == Hold.Pin ? PinUnit(kind) : 1;
        var why = hold == Hold.Pin ? PinRules(p, f) : ["REF-GET-PLUS-ONE"];
        if (hold == Hold.Ref && f.IsZero)
        {
            why.Add("ZERO-GET-COUNTS");
        }

        if (hold == Hold.Ref && f.Order > 0)
        {
            // REF-LARGE-FOLIO-HEAD: a tail page has no refcount of its own.
            why.Add("REF-LARGE-FOLIO-HEAD");
        }

        why.AddRange(extra);
        long granted;
        if (f.Refcount <= 0)
        {
            granted = 0;
        }
        else if (unit == 0)
        {
            granted = refs;
        }
        else
        {
            // Entry j sees refcount R + j*unit; it passes while that is still <= INT_MAX (positive).
            granted = Math.Min(refs, ((long)int.MaxValue - f.Refcount) / unit + 1);
        }

        foreach (var r in why)
        {
            rules.Add(r);
        }

        if (granted < refs)
        {
            rules.Add("OVF-SIGN-CHECK");
            if (hold == Hold.Pin && ctx.Profile.HasPinVmstat)
            {
                // The refused entries are not counted in nr_foll_pin_acquired either: the sign check decided that.
                ctx.AcquiredProv = ctx.AcquiredProv.Decide(["OVF-SIGN-CHECK"]);
            }
        }

        if (granted == 0)
        {
            return 0;
        }

        var sum = f.Refcount + (granted * unit);
        if (sum > int.MaxValue)
        {
            why.Add("OVF-NO-SATURATION");
            rules.Add("OVF-NO-SATURATION");
        }

        var next = f;
        if (kind == PinKind.ZeroNoop)
        {
            // What a pin of a small page would have added, had the zero page not been skipped.
            next = next with { RefProv = next.RefProv.Decide(why, ZeroSkipped(granted, +1)) };
        }
        else
        {
            next = next with { Refcount = unchecked((int)sum), RefProv = next.RefProv.Change(ctx.StepNo, why, ShareOf(granted, unit, why, extra)) };
        }

        if (hold == Hold.Pin && kind == PinKind.Exact)
        {
            next = next with { Pincount = unchecked((int)(next.Pincount + granted)), PinProv = next.PinProv.Change(ctx.StepNo, why, ShareOf(granted, 1, why, extra)) };
        }

        if (hold == Hold.Pin && kind != PinKind.ZeroNoop)
        {
            next = next with { Pins = next.Pins + granted };
        }
        else if (hold == Hold.Ref && !f.IsZero && HasExactPinCount(p, f.Order))
        {
            // A reference leaves the exact pin count alone: the rules that made it a reference decided that.
            next = next with { PinProv = next.PinProv.Decide(why) };
        }

        ctx.Put(next);
        CountAcquired(ctx, hold, kind, granted, rules);
        return granted;
    }

    /// <summary>VMSTAT-ACQ-PER-ENTRY: pins count entries; refs (VMSTAT-GET-INVISIBLE) and the zero page (ZERO-NOT-PINNED) do not.</summary>
    private static void CountAcquired(StepContext ctx, Hold hold, PinKind kind, long entries, ICollection<string> rules)
    {
        if (!ctx.Profile.HasPinVmstat)
        {
            return;
        }

        if (hold == Hold.Ref)
        {
            ctx.AcquiredProv = ctx.AcquiredProv.Decide(["VMSTAT-GET-INVISIBLE"]);
            rules.Add("VMSTAT-GET-INVISIBLE");
        }
        else if (kind == PinKind.ZeroNoop)
        {
            ctx.AcquiredProv = ctx.AcquiredProv.Decide(["ZERO-NOT-PINNED"]);
        }
        else
        {
            ctx.Acquired += entries;
            ctx.AcquiredProv = ctx.AcquiredProv.Change(ctx.StepNo, ["VMSTAT-ACQ-PER-ENTRY"]);
            rules.Add("VMSTAT-ACQ-PER-ENTRY");
        }
    }

    /// <summary>
    /// The one release primitive. <paramref name="asPin"/> false is put_page() ×refs (REL-PUT-PAGE, REF-LARGE-FOLIO-HEAD; on a pinned entry
    /// REL-MISUSE-PUT-PINNED). True is gup_put_folio(folio, refs, FOLL_PIN): the zero page when not pinned → nothing
    /// (ZERO-NOT-PINNED); else nr_foll_pin_released += refs (VMSTAT-REL-PER-ENTRY) and the exact inverse of the grab:
    /// REL-UNPIN-EXACT, REL-UNPIN-BIAS or REL-UNPIN-PLUS-ONE (REL-MISUSE-UNPIN-REFFED on a referenced entry).
    /// </summary>
    public static void PutFolio(StepContext ctx, string key, long refs, bool asPin, Hold heldAs, ICollection<string> rules, IEnumerable<string>? cause = null)
    {
        var p = ctx.Profile;
        var f = ctx.Folio(key);
        ctx.Touch(key);
        var due = cause?.ToList() ?? [];
        List<string> why = [.. due];
        if (!asPin)
        {
            why.Add("REL-PUT-PAGE");
            if (f.Order > 0)
            {
                why.Add("REF-LARGE-FOLIO-HEAD");
            }

            if (heldAs == Hold.Pin)
            {
                why.Add("REL-MISUSE-PUT-PINNED");
            }

            Subtract(ctx, f, refs, 1, 0, why, due, rules);
            if (p.HasPinVmstat)
            {
                ctx.ReleasedProv = ctx.ReleasedProv.Decide(heldAs == Hold.Pin ? ["REL-MISUSE-PUT-PINNED"] : ["VMSTAT-GET-INVISIBLE"]);
                rules.Add(heldAs == Hold.Pin ? "REL-MISUSE-PUT-PINNED" : "VMSTAT-GET-INVISIBLE");
            }

            return;
        }

        var kind = KindOf(p, f);
        if (kind == PinKind.ZeroNoop)
        {
            why.Add("ZERO-NOT-PINNED");
            ctx.Put(f with { RefProv = f.RefProv.Decide(why, ZeroSkipped(refs, -1)) });
            ctx.ReleasedProv = ctx.ReleasedProv.Decide(["ZERO-NOT-PINNED"]);
            foreach (var r in why)
            {
                rules.Add(r);
            }

            return;
        }

        why.Add(kind switch
        {
            PinKind.Exact => "REL-UNPIN-EXACT",
            PinKind.Bias => "REL-UNPIN-BIAS",
            _ => "REL-UNPIN-PLUS-ONE",
        });
        if (f.IsZero)
        {
            why.Add("ZERO-PINNED-LEGACY");
        }

        if (heldAs == Hold.Ref)
        {
            why.Add("REL-MISUSE-UNPIN-REFFED");
        }

        if (p.HasPinVmstat)
        {
            ctx.Released += refs;
            ctx.ReleasedProv = ctx.ReleasedProv.Change(ctx.StepNo, ["VMSTAT-REL-PER-ENTRY"]);
            rules.Add("VMSTAT-REL-PER-ENTRY");
        }

        Subtract(ctx, f, refs, PinUnit(kind), kind == PinKind.Exact ? refs : 0, why, due, rules);
        var after = ctx.Folio(key);
        ctx.Put(after with { Pins = after.Pins - refs });
    }

    /// <summary>folio_put_refs(): refcount -= refs * unit, wrapping (OVF-NO-SATURATION), pin count -= pins.</summary>
    private static void Subtract(StepContext ctx, FolioState f, long refs, int unit, long pins, List<string> why, List<string> due, ICollection<string> rules)
    {
        var diff = f.Refcount - (refs * unit);
        if (diff < int.MinValue)
        {
            why.Add("OVF-NO-SATURATION");
        }

        var next = f with { Refcount = unchecked((int)diff), RefProv = f.RefProv.Change(ctx.StepNo, why, ShareOf(refs, -unit, why, due)) };
        if (pins != 0)
        {
            next = next with { Pincount = unchecked((int)(next.Pincount - pins)), PinProv = next.PinProv.Change(ctx.StepNo, why, ShareOf(pins, -1, why, due)) };
        }
        else if (!f.IsZero && HasExactPinCount(ctx.Profile, f.Order))
        {
            // Dropping references leaves the exact pin count alone: the release's rules decided that.
            next = next with { PinProv = next.PinProv.Decide(why) };
        }

        ctx.Put(next);
        foreach (var r in why)
        {
            rules.Add(r);
        }
    }

    /// <summary>
    /// folio_add_pin() (PIN-FOLIO-ADD-PIN): zero page → nothing; exact → +1 ref, +1 pin; bias → +1024; never
    /// nr_foll_pin_acquired (VMSTAT-ADD-PIN-UNCOUNTED). No sign check: it only WARNs.
    /// </summary>
    public static void AddPin(StepContext ctx, string key, ICollection<string> rules)
    {
        var p = ctx.Profile;
        var f = ctx.Folio(key);
        ctx.Touch(key);
        var kind = KindOf(p, f);
        List<string> why = ["PIN-FOLIO-ADD-PIN", .. PinRules(p, f)];
        foreach (var r in why)
        {
            rules.Add(r);
        }

        rules.Add("VMSTAT-ADD-PIN-UNCOUNTED");
        ctx.AcquiredProv = ctx.AcquiredProv.Decide(["VMSTAT-ADD-PIN-UNCOUNTED"]);
        if (kind == PinKind.ZeroNoop)
        {
            ctx.Put(f with { RefProv = f.RefProv.Decide(why, ZeroSkipped(1, +1)) });
            return;
        }

        var sum = f.Refcount + (long)PinUnit(kind);
        if (sum > int.MaxValue)
        {
            why.Add("OVF-NO-SATURATION");
            rules.Add("OVF-NO-SATURATION");
        }

        List<string> addPin = ["PIN-FOLIO-ADD-PIN"];
        var next = f with { Refcount = unchecked((int)sum), RefProv = f.RefProv.Change(ctx.StepNo, why, ShareOf(1, PinUnit(kind), why, addPin)), Pins = f.Pins + 1 };
        if (kind == PinKind.Exact)
        {
            next = next with { Pincount = unchecked(next.Pincount + 1), PinProv = next.PinProv.Change(ctx.StepNo, why, ShareOf(1, 1, why, addPin)) };
        }

        ctx.Put(next);
    }

    /// <summary>
    /// Marks a folio dirty once (set_page_dirty_lock / folio_mark_dirty) under <paramref name="rule"/>; the zero page
    /// is never dirty-reported, a dirty folio stays dirty (the rule still decided the value).
    /// </summary>
    public static void MarkDirty(StepContext ctx, string key, string rule)
    {
        var f = ctx.Folio(key);
        ctx.Touch(key);
        if (f.IsZero)
        {
            return;
        }

        ctx.Put(f.Dirty
            ? f with { DirtyProv = f.DirtyProv.Decide([rule]) }
            : f with { Dirty = true, DirtyProv = f.DirtyProv.Change(ctx.StepNo, [rule]) });
    }

    /// <summary>REL-EXACT-INVERSE: the caller gave back its last hold on the folio with the matching release.</summary>
    public static void NoteExactInverse(StepContext ctx, string key, ICollection<string> rules)
    {
        var f = ctx.Folio(key);
        ctx.Put(f with { RefProv = f.RefProv.Change(ctx.StepNo, ["REL-EXACT-INVERSE"]) });
        rules.Add("REL-EXACT-INVERSE");
    }
}
