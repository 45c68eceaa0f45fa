using System.Collections.Immutable;
using System.Globalization;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// Which rules decided a value: <see cref="Changed"/> are the rules of the step that last changed it (united within
/// that step), <see cref="Since"/> the rules that decided "no change" afterwards (e.g. ZERO-NOT-PINNED,
/// VMSTAT-GET-INVISIBLE). An inspection cites both; a value never touched cites CORE-NO-COLLATERAL.
/// </summary>
internal sealed record Prov(ImmutableSortedSet<string> Changed, long Step, ImmutableSortedSet<string> Since) : ICountExplainer
{
    public static readonly ImmutableSortedSet<string> NoRules = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    public static readonly Prov Untouched = new(NoRules, -1, NoRules);

    private static readonly IReadOnlyList<string> Collateral = ["CORE-NO-COLLATERAL"];

    // Cite() and Cite() + CORE-NO-COLLATERAL, made on first use (a Prov never changes); not part of equality.
    private IReadOnlyList<string>? _cite;
    private IReadOnlyList<string>? _citeCollateral;

    /// <summary>The rules that made the value (a fault's or a migration's fresh folio), kept for its whole life: a value
    /// the implementation does not report at all is their failure first (<see cref="FieldCheck.WhenAbsent"/>).</summary>
    public ImmutableArray<string> MadeBy { get; init; } = [];

    /// <summary>The provenance of a value made at <paramref name="step"/> by <paramref name="rules"/>.</summary>
    public static Prov Made(long step, IReadOnlyList<string> rules) => new(NoRules.Union(rules), step, NoRules) { MadeBy = [.. rules] };

    /// <summary>The count changes of the step that last changed the value, and the changes later steps decided against
    /// (<see cref="CountShare.Prevented"/>): what a failing check weighs its rules by (<see cref="Explain"/>). Not part of
    /// equality: they only say why the value is what it is.</summary>
    public ImmutableArray<CountShare> Shares { get; init; } = [];

    public Prov Change(long step, IEnumerable<string> rules) => step == Step
        ? new Prov(Changed.Union(rules), Step, Since) { MadeBy = MadeBy, Shares = Shares }
        : new Prov(NoRules.Union(rules), step, NoRules) { MadeBy = MadeBy };

    /// <summary>As <see cref="Change(long, IEnumerable{string})"/>, recording the change as <paramref name="share"/>.</summary>
    public Prov Change(long step, IEnumerable<string> rules, CountShare share) => step == Step
        ? new Prov(Changed.Union(rules), Step, Since) { MadeBy = MadeBy, Shares = Shares.Add(share) }
        : new Prov(NoRules.Union(rules), step, NoRules) { MadeBy = MadeBy, Shares = [share] };

    public Prov Decide(IEnumerable<string> rules) => new(Changed, Step, Since.Union(rules)) { MadeBy = MadeBy, Shares = Shares };

    /// <summary>As <see cref="Decide(IEnumerable{string})"/>, recording the change decided against as <paramref name="prevented"/>.</summary>
    public Prov Decide(IEnumerable<string> rules, CountShare prevented) =>
        new(Changed, Step, Since.Union(rules)) { MadeBy = MadeBy, Shares = Shares.Add(prevented with { Prevented = true }) };

    /// <summary>
    /// Orders a failing count check's <paramref name="rules"/> by what the difference between the
    /// <paramref name="observed"/> and the <paramref name="expected"/> value says (see <see cref="CountShare"/>): the rules
    /// that answer for a share which accounts for exactly that difference, and for no share which does not, come first;
    /// a rule that only decided against a change the implementation did not make goes last. Null when the difference
    /// tells nothing (the order stays).
    /// </summary>
    public IReadOnlyList<string>? Explain(string? observed, string expected, IReadOnlyList<string> rules)
    {
        if (Weigh(observed, expected, rules) is not var (lead, last))
        {
            return null;
        }

        List<string> ordered = [.. lead.Select(l => l.Rule).Distinct(StringComparer.Ordinal)];
        ordered.AddRange(rules.Where(id => !ordered.Contains(id, StringComparer.Ordinal) && !last.Contains(id, StringComparer.Ordinal)));
        ordered.AddRange(rules.Where(id => last.Contains(id, StringComparer.Ordinal) && !ordered.Contains(id, StringComparer.Ordinal)));
        return ordered;
    }

    /// <summary>
    /// The rules of the change <see cref="Explain"/> puts first (<see cref="CountFit.Chosen"/>), and those of the other
    /// changes that account for the difference in the same way (<see cref="CountFit.Equally"/>): a tie the count alone
    /// cannot break. Null when nothing accounts for the difference.
    /// </summary>
    public CountFit? Fit(string? observed, string expected, IReadOnlyList<string> rules)
    {
        if (Weigh(observed, expected, rules) is not var (lead, _) || lead.Count == 0)
        {
            return null;
        }

        var (mode, share, _) = lead[0];
        List<string> chosen = [.. lead.Where(l => l.Share == share).Select(l => l.Rule).Distinct(StringComparer.Ordinal)];
        List<string> equally = [.. lead.Where(l => l.Mode == mode && l.Share != share && !chosen.Contains(l.Rule, StringComparer.Ordinal)).Select(l => l.Rule).Distinct(StringComparer.Ordinal)];
        return new CountFit(chosen, equally);
    }

    /// <summary>The rules that account for the difference (with how, and which merged share), likelier first, and the
    /// rules that only prevented a change not made; null when the difference tells nothing.</summary>
    private (List<(ShareMode Mode, int Share, string Rule)> Lead, List<string> Last)? Weigh(string? observed, string expected, IReadOnlyList<string> rules)
    {
        if (Shares.IsEmpty || observed is null
            || !long.TryParse(observed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seen)
            || !long.TryParse(expected, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var due))
        {
            return null;
        }

        // The counters are signed 32-bit and wrap: a difference is the same across the wrap. Entries the step changed
        // alike are one share (a grab entry by entry is one change of n entries).
        var diff = seen - due;
        var wrapped = (long)unchecked((int)diff);
        var shares = CountShare.Merge(Shares);
        var modes = shares.Select(sh => sh.Mode(diff) is var m && m != ShareMode.None ? m : sh.Mode(wrapped)).ToList();
        var made = shares.Where(sh => !sh.Prevented).ToList();
        var lead = new List<(ShareMode Mode, int Share, string Rule)>();
        var last = new List<string>();
        for (var i = 0; i < shares.Count; i++)
        {
            var sh = shares[i];
            IEnumerable<string> blamed = modes[i] switch
            {
                ShareMode.PreventedMade => sh.Due,
                ShareMode.OtherUnit or ShareMode.Miscounted => sh.Amount,

                // A change left out: the gate (the zero page not skipped), and the reason it was due when the step made
                // other changes too; a change made twice: that reason. Only what sets the share apart from the step's
                // other changes (a rule they share cannot be what one of them got wrong).
                ShareMode.Omitted => Distinct(sh, made, made.Count == 1 ? sh.Gate : sh.Gate.Concat(sh.Due)),
                ShareMode.Doubled => made.Count == 1 ? [] : Distinct(sh, made, sh.Due),
                _ => [],
            };
            lead.AddRange(blamed.Where(id => rules.Contains(id, StringComparer.Ordinal)).Select(id => (modes[i], i, id)));
            if (sh.Prevented && modes[i] == ShareMode.None)
            {
                last.AddRange(sh.Due);
            }
        }

        // The likelier mistake first: a change prevented yet made, one in the wrong unit, one left out, one made twice,
        // and last a wrong number of entries (stable: in the order the step made them).
        lead = [.. lead.OrderBy(l => (int)l.Mode)];
        last.RemoveAll(id => lead.Any(l => l.Rule == id) || !rules.Contains(id, StringComparer.Ordinal));
        return lead.Count == 0 && last.Count == 0 ? null : (lead, last);
    }

    // The rules of `ids` that no other change of the step rests on.
    private static IEnumerable<string> Distinct(CountShare share, List<CountShare> made, IEnumerable<string> ids) =>
        ids.Where(id => !made.Any(o => !ReferenceEquals(o, share) && o.Rules.Contains(id, StringComparer.Ordinal)));

    /// <summary>CORE-NO-COLLATERAL: a value nothing ever decided is still its creation value.</summary>
    public IReadOnlyList<string> Cite() => _cite ??= Build();

    /// <summary><see cref="Cite()"/>, plus CORE-NO-COLLATERAL when <paramref name="collateral"/> (each once).</summary>
    public IReadOnlyList<string> Cite(bool collateral)
    {
        if (!collateral)
        {
            return Cite();
        }

        if (_citeCollateral is null)
        {
            var c = Cite();
            _citeCollateral = Has(c, "CORE-NO-COLLATERAL") ? c : [.. c, .. Collateral];
        }

        return _citeCollateral;
    }

    // Cite(collateral) filtered to one profile's rules (the last profile asked; a Prov lives in one run).
    private CitedIn? _citedIn;
    private CitedIn? _citedInCollateral;

    /// <summary>
    /// <see cref="Cite(bool)"/> restricted to the rules in <paramref name="applicable"/> (a profile's), CORE-NO-COLLATERAL
    /// when nothing is left: what <c>StepContext.Check</c> cites, made once per provenance and profile.
    /// </summary>
    public IReadOnlyList<string> CiteIn(IReadOnlySet<string> applicable, bool collateral)
    {
        var cached = collateral ? _citedInCollateral : _citedIn;
        if (cached is not null && ReferenceEquals(cached.Applicable, applicable))
        {
            return cached.Rules;
        }

        var cite = Cite(collateral);
        IReadOnlyList<string> rules = cite.Count > 0 && AllApply(cite, applicable) ? cite : Filtered(cite, applicable);

        var made = new CitedIn(applicable, rules);
        if (collateral)
        {
            _citedInCollateral = made;
        }
        else
        {
            _citedIn = made;
        }

        return rules;
    }

    // Usually every cited rule is the profile's: then the cited list itself is the answer (it is never changed).
    private static bool AllApply(IReadOnlyList<string> cite, IReadOnlySet<string> applicable)
    {
        for (var i = 0; i < cite.Count; i++)
        {
            if (!applicable.Contains(cite[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> Filtered(IReadOnlyList<string> cite, IReadOnlySet<string> applicable)
    {
        var rules = new List<string>(cite.Count);
        for (var i = 0; i < cite.Count; i++)
        {
            var id = cite[i];
            if (applicable.Contains(id))
            {
                rules.Add(id);
            }
            else if (!Rules.Exists(id))
            {
                throw new KeyNotFoundException($"no rule '{id}'");
            }
        }

        if (rules.Count == 0)
        {
            rules.Add("CORE-NO-COLLATERAL");
        }

        return rules;
    }

    public bool Equals(Prov? other) => other is not null && (ReferenceEquals(this, other)
        || (EqualityComparer<ImmutableSortedSet<string>>.Default.Equals(Changed, other.Changed) && Step == other.Step
            && EqualityComparer<ImmutableSortedSet<string>>.Default.Equals(Since, other.Since) && MadeBy.SequenceEqual(other.MadeBy, StringComparer.Ordinal)));

    public override int GetHashCode() => HashCode.Combine(Changed, Step, Since);

    private sealed record CitedIn(IReadOnlySet<string> Applicable, IReadOnlyList<string> Rules);

    // The rules that made the value come before those that later decided it should not move: when one step did both,
    // a check that fails cites first what changed it.
    private IReadOnlyList<string> Build()
    {
        if (Changed.Count == 0 && Since.Count == 0)
        {
            return Collateral;
        }

        // Copied out of the sorted sets once; a check reads the list by index. The sets hold a few rules each, so they
        // are read by index too: their enumerator (which CopyTo and foreach use) rents a stack from a pool for every
        // walk, and this was 4 % of the checking thread's samples.
        var list = new List<string>(Changed.Count + Since.Count);
        for (var i = 0; i < Changed.Count; i++)
        {
            list.Add(Changed[i]);
        }

        for (var i = 0; i < Since.Count; i++)
        {
            if (!Changed.Contains(Since[i]))
            {
                list.Add(Since[i]);
            }
        }

        return list;
    }

    private static bool Has(IReadOnlyList<string> ids, string id)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], id, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>How a count check's difference relates to one <see cref="CountShare"/>.</summary>
internal enum ShareMode
{
    /// <summary>A change the step decided against, made anyway.</summary>
    PreventedMade,

    /// <summary>The same entries in the other unit (a reference for a bias pin, a pin for a put).</summary>
    OtherUnit,

    /// <summary>The change was left out.</summary>
    Omitted,

    /// <summary>The change was made twice.</summary>
    Doubled,

    /// <summary>Some of the entries, not all (or more of them).</summary>
    Miscounted,

    None,
}

/// <summary>
/// One change a step made to a count (or, <see cref="Prevented"/>, decided against): <see cref="Entries"/> entries of
/// <see cref="Unit"/> each (negative for a release), and who answers for each way it can go wrong (<see cref="ShareMode"/>):
/// a change left out or made twice is the failure of <see cref="Gate"/> (the rule that it applies to this folio at all,
/// such as the zero page before v6.5) or of <see cref="Due"/> (the reason the step made it: a trim, a merge, a
/// migration's unpin); the same entries in the other unit, or a wrong number of entries, of <see cref="Amount"/> (how much
/// one entry is); a change prevented and made anyway, of the rules that prevented it (<see cref="Due"/>).
/// </summary>
internal sealed record CountShare(long Entries, long Unit, IReadOnlyList<string> Due, IReadOnlyList<string> Amount, IReadOnlyList<string> Gate)
{
    public bool Prevented { get; init; }

    public long Delta => Entries * Unit;

    public IEnumerable<string> Rules => Due.Concat(Amount).Concat(Gate);

    // The units a port confuses: a reference (and an exact pin) is 1, a bias pin 1024.
    private static readonly long[] Units = [1, Sizes.GupPinCountingBias];

    /// <summary>How a check off by <paramref name="diff"/> relates to this share.</summary>
    public ShareMode Mode(long diff)
    {
        if (Entries == 0 || Unit == 0 || diff == 0)
        {
            return ShareMode.None;
        }

        if (Prevented)
        {
            return diff == Delta ? ShareMode.PreventedMade : ShareMode.None;
        }

        if (diff == -Delta)
        {
            return ShareMode.Omitted;
        }

        if (diff == Delta)
        {
            return ShareMode.Doubled;
        }

        var sign = Math.Sign(Unit);
        if (Units.Any(other => other != Math.Abs(Unit) && diff == (Entries * sign * other) - Delta))
        {
            return ShareMode.OtherUnit;
        }

        // Whole entries off, fewer than all of them (or more): the count of entries, not the reason, is wrong.
        return Entries > 1 && diff % Unit == 0 && diff / Unit is var k && k != 0 && Math.Abs(k) < Entries ? ShareMode.Miscounted : ShareMode.None;
    }

    /// <summary>Shares that differ only in their entries, as one (in the order first seen).</summary>
    public static List<CountShare> Merge(IEnumerable<CountShare> shares)
    {
        var merged = new List<CountShare>();
        foreach (var sh in shares)
        {
            var i = merged.FindIndex(m => m.Prevented == sh.Prevented && m.Unit == sh.Unit && m.Due.SequenceEqual(sh.Due, StringComparer.Ordinal)
                && m.Amount.SequenceEqual(sh.Amount, StringComparer.Ordinal) && m.Gate.SequenceEqual(sh.Gate, StringComparer.Ordinal));
            if (i < 0)
            {
                merged.Add(sh);
            }
            else
            {
                merged[i] = merged[i] with { Entries = merged[i].Entries + sh.Entries };
            }
        }

        return merged;
    }
}

/// <summary>
/// A folio as counters: one refcount and one pin count whatever the order, so a 1 GiB folio costs what a small
/// page costs. Refcount and pin count are atomic_t in the kernel: signed 32-bit, wrapping.
/// </summary>
internal sealed record FolioState(
    string Key,
    int Order,
    bool IsZero,
    int Refcount,
    int Pincount,
    bool Dirty,
    long Pins,
    Prov RefProv,
    Prov PinProv,
    Prov DirtyProv)
{
    public const string ZeroKey = "zero";

    public static FolioState Fresh(string key, int order, int refcount, bool isZero = false) =>
        new(key, order, isZero, refcount, 0, false, 0, Prov.Untouched, Prov.Untouched, Prov.Untouched);

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"order={Order} refcount={Refcount} pincount={Pincount} dirty={(Dirty ? "true" : "false")} pins={Pins}");

    // The checks of an inspection of this very folio (InspectStep.FolioOutcome): a folio state never changes, and most
    // folios are inspected after every action unchanged, so they are worked out once per folio state, profile and
    // CORE-NO-COLLATERAL answer. A `with` copy carries the fields but not their owner, so it never reuses another's.
    // One slot per answer: a folio the last action changed is inspected once as addressed, then unchanged as collateral
    // after the next action (with one slot, 31 % of a default run's misses were the other answer's checks made again).
    private InspectionMemo? _memo;
    private InspectionMemo? _memoCollateral;

    internal InspectionMemo? Memo(Profile profile, bool collateral) =>
        (collateral ? _memoCollateral : _memo) is { } m && ReferenceEquals(m.Folio, this) && ReferenceEquals(m.Profile, profile) ? m : null;

    internal void Remember(InspectionMemo memo)
    {
        if (memo.Collateral)
        {
            _memoCollateral = memo;
        }
        else
        {
            _memo = memo;
        }
    }

    // Equality is the folio's values (the memo is a cache).
    public bool Equals(FolioState? other) => other is not null && (ReferenceEquals(this, other)
        || (Key == other.Key && Order == other.Order && IsZero == other.IsZero && Refcount == other.Refcount && Pincount == other.Pincount
            && Dirty == other.Dirty && Pins == other.Pins && RefProv == other.RefProv && PinProv == other.PinProv && DirtyProv == other.DirtyProv));

    public override int GetHashCode() => HashCode.Combine(Key, Refcount, Pincount, Dirty, Pins);
}

/// <summary>The checks and exercised rules of one inspection of <see cref="Folio"/>, made once (see FolioState).</summary>
internal sealed record InspectionMemo(FolioState Folio, Profile Profile, bool Collateral, Expectation Expected);

/// <summary>A mapped region; a Zero region remembers which of its pages a fault replaced (each now an order-0 folio).</summary>
internal sealed record RegionState(int Id, RegionKind Kind, ulong Start, int Folios, int Order, int StartRefcount, ImmutableSortedSet<long> Faulted)
{
    /// <summary>
    /// Zero and File regions: the pages whose PTE is writable. A Zero-region page is write-mapped by a write fault
    /// (an unsharing fault maps it read-only); a File page starts read-only (the mapping tracks dirtying) until a
    /// write fault. Anon pages are always writable. Only GUP-fast-only, which cannot fault, sees the difference.
    /// </summary>
    public ImmutableSortedSet<long> WriteMapped { get; init; } = [];

    /// <summary>The address space the region is mapped in: 0 the caller's, 1 the second one (GUP-REMOTE-TARGET-MM).</summary>
    public int Mm { get; init; }

    /// <summary>An Anon region in a movable area (ZONE_MOVABLE / CMA): its folios are not longterm-pinnable until migrated.</summary>
    public bool Movable { get; init; }

    /// <summary>The folio indices a long-term pin migrated out of the movable area (GUP-MIGRATE-MOVABLE): those are new, pinnable folios.</summary>
    public ImmutableSortedSet<long> Migrated { get; init; } = [];

    /// <summary>Whether folio <paramref name="index"/> is still in the movable area (!folio_is_longterm_pinnable()).</summary>
    public bool IsMovable(long index) => Movable && !Migrated.Contains(index);

    public long Pages => (long)Folios << Order;

    public long FolioPages => 1L << Order;

    public ulong End => Start + (ulong)Pages * (ulong)Sizes.PageSize;

    public bool Contains(ulong addr) => addr >= Start && addr < End;

    public bool IsVmIoOrPfnMap => Kind is RegionKind.Io or RegionKind.PfnMap;

    public RegionView View => new(Id, Kind, Start, Folios, Order, Mm, Movable);

    /// <summary>Whether folio <paramref name="index"/> is one of the region's own folios (a Zero region has none: its
    /// pages are the zero page until a fault replaces one, which is then a late folio).</summary>
    public bool HasOwnFolio(long index) => Kind is RegionKind.Anon or RegionKind.File or RegionKind.Io or RegionKind.PfnMap && index >= 0 && index < Folios;

    // The creation-value states of this region's untouched folios, made once each: an inspection's checks are
    // remembered per folio state (FolioState.Memo), so an untouched folio must be the same object every time.
    // A `with` copy carries the field but not its owner, so it never reuses another region's folios.
    private (RegionState Owner, FolioState?[] Items)? _fresh;

    /// <summary>Folio <paramref name="index"/> at its creation value, or null when the region has no such folio.</summary>
    internal FolioState? FreshFolio(long index)
    {
        if (!HasOwnFolio(index))
        {
            return null;
        }

        // An Anon folio starts at the region's order and refcount; a File page, and the VM_IO / VM_PFNMAP pages (never
        // grabbed, but old frame vectors follow them, so a release that puts them anyway is seen:
        // FV-PUT-ONLY-IF-GOT-REF), at order 0 and refcount 1.
        var (order, refcount) = Kind == RegionKind.Anon ? (Order, StartRefcount) : (0, 1);
        if (index >= KeyCacheSize)
        {
            return FolioState.Fresh(FolioKey(Id, index), order, refcount);
        }

        var items = _fresh is { } c && ReferenceEquals(c.Owner, this) ? c.Items : null;
        if (items is null)
        {
            items = new FolioState?[Math.Min(Folios, KeyCacheSize)];
            _fresh = (this, items);
        }

        return items[index] ??= FolioState.Fresh(FolioKey(Id, index), order, refcount);
    }

    // Equality is the region's values (the folio cache is not).
    public bool Equals(RegionState? other) => other is not null && (ReferenceEquals(this, other)
        || (Id == other.Id && Kind == other.Kind && Start == other.Start && Folios == other.Folios && Order == other.Order
            && StartRefcount == other.StartRefcount && EqualityComparer<ImmutableSortedSet<long>>.Default.Equals(Faulted, other.Faulted)
            && EqualityComparer<ImmutableSortedSet<long>>.Default.Equals(WriteMapped, other.WriteMapped) && Mm == other.Mm
            && Movable == other.Movable && EqualityComparer<ImmutableSortedSet<long>>.Default.Equals(Migrated, other.Migrated)));

    public override int GetHashCode() => HashCode.Combine(Id, Kind, Start, Folios, Order, StartRefcount, Mm, Movable);

    private const int KeyCacheSize = 64;
    private static readonly string?[] KeyCache = new string?[KeyCacheSize * KeyCacheSize];

    /// <summary>"r{region}.f{index}" (the keys of small ids are made once and shared).</summary>
    public static string FolioKey(int region, long index)
    {
        if (region is >= 0 and < KeyCacheSize && index is >= 0 and < KeyCacheSize)
        {
            var slot = (region * KeyCacheSize) + (int)index;
            return KeyCache[slot] ??= Make(region, index);
        }

        return Make(region, index);
    }

    private static string Make(int region, long index) => string.Create(CultureInfo.InvariantCulture, $"r{region}.f{index}");
}

/// <summary>A pages array with its totals kept alongside so describing it costs nothing.</summary>
internal sealed record ArrayState(ImmutableList<EntryRun> Runs, long Entries, long Outstanding)
{
    public static ArrayState Of(ImmutableList<EntryRun> runs) => new(
        runs,
        runs.Sum(r => r.Count),
        runs.Where(r => !r.Released && r.Hold != Hold.None).Sum(r => r.Count));
}

/// <summary>
/// An iov_iter: the segments left (the first possibly partly consumed), the byte count left, and how many bytes of the
/// first remaining segment were already consumed (iov_offset: the v6.13+ BVEC extraction sizes its page array by it).
/// </summary>
internal sealed record IterState(int Id, IterKind Kind, IterDir Dir, long Count, ImmutableList<IterSeg> Segs, long Skip = 0)
{
    /// <summary>user_backed_iter(): UBUF or IOVEC.</summary>
    public bool UserBacked => Kind is IterKind.Ubuf or IterKind.Iovec;

    /// <summary>
    /// iov_iter_advance(): consume <paramref name="n"/> bytes; a segment consumed to its end is dropped together
    /// with any empty segments right after it (the kernel's advance loop skips them the same way).
    /// </summary>
    public IterState Advance(long n)
    {
        var segs = Segs;
        var left = n;
        var skip = Skip;
        while (segs.Count > 0 && left >= segs[0].Len)
        {
            left -= segs[0].Len;
            segs = segs.RemoveAt(0);
            skip = 0;
        }

        if (left > 0 && segs.Count > 0)
        {
            segs = segs.SetItem(0, new IterSeg(segs[0].Addr + (ulong)left, segs[0].Len - left));
            skip += left;
        }

        return this with { Count = Count - n, Segs = segs, Skip = skip };
    }

    public IterView View => new(Id, Kind, Dir, Count, Segs);
}

/// <summary>A bio being built: its cleanup flags, the pages it holds and where its data ends (for same-page merges).</summary>
internal sealed record BioState(int Id, ImmutableList<string> Flags, ImmutableList<EntryRun> Pages, long PageCount, EntryRun? LastPage, long LastEnd)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"flags={Observation.BioFlagsText(Flags)} pages={PageCount}");
}

/// <summary>A frame vector: GotRef / IsPfns are null until get_vaddr_frames() first sets them (kvmalloc leaves them undefined).</summary>
internal sealed record FvState(int Id, int NrAllocated, long NrFrames, bool? GotRef, bool? IsPfns, ImmutableList<EntryRun> Frames)
{
    public FvView View => new(Id, NrAllocated, NrFrames, GotRef ?? false, IsPfns ?? false);

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"allocated={NrAllocated} nr_frames={NrFrames} got_ref={Text(GotRef)} is_pfns={Text(IsPfns)}");

    private static string Text(bool? b) => b is null ? "undefined" : b.Value ? "true" : "false";
}

/// <summary>A netfs request: the will_pin answer recorded from the original iterator and its pinned bvec pages.</summary>
internal sealed record NetfsState(int Id, bool WillPin, ImmutableList<EntryRun> Pages, long Bvecs);

/// <summary>Which collection of <see cref="ModelState"/> an entry a step changed belongs to.</summary>
internal enum ChangedKind
{
    Region,
    Folio,
    Array,
    Iter,
    Bio,
    Fv,
    Netfs,
}

/// <summary>One entry a step set or removed: <see cref="Id"/> for the int-keyed collections, <see cref="Folio"/> for folios.</summary>
internal readonly record struct ChangedKey(ChangedKind Kind, int Id, string? Folio);

/// <summary>
/// What one step changed: the entries of the described collections it set or removed (each at least once), in the
/// state it made from the state numbered <see cref="From"/> (<see cref="ModelState.Serial"/>). The vmstat counters and
/// the MMF_HAS_PINNED set are compared whole (they are two numbers and a set of at most two).
/// </summary>
internal sealed record StepChanges(long From, IReadOnlyList<ChangedKey> Keys);

/// <summary>The internal state; every collection is immutable and shared between successive states.</summary>
public sealed partial class ModelState
{
    private static long s_serials;

    /// <summary>A number no other state of this process has: what <see cref="StepChanges.From"/> refers to.</summary>
    internal long Serial { get; } = Interlocked.Increment(ref s_serials);

    /// <summary>The entries the step that made this state changed, from the state it was made from; null for an initial state.</summary>
    internal StepChanges? Changes { get; init; }

    internal ImmutableList<RegionState> RegionList { get; init; } = [];

    /// <summary>Folios whose state differs from their creation value, and the zero page and faulted folios.</summary>
    internal ImmutableDictionary<string, FolioState> FolioMap { get; init; } = NoFolios;

    // Made once: an initializer runs for every state, and most states replace it at once.
    private static readonly ImmutableDictionary<string, FolioState> NoFolios = ImmutableDictionary.Create<string, FolioState>(StringComparer.Ordinal);

    /// <summary>Folios created after their region was mapped (the zero page, fault-replaced pages), in creation order.</summary>
    internal ImmutableList<string> LateFolios { get; init; } = [];

    internal ImmutableSortedDictionary<int, ArrayState> ArrayMap { get; init; } = ImmutableSortedDictionary<int, ArrayState>.Empty;

    internal ImmutableSortedDictionary<int, IterState> IterMap { get; init; } = ImmutableSortedDictionary<int, IterState>.Empty;

    internal ImmutableSortedDictionary<int, BioState> BioMap { get; init; } = ImmutableSortedDictionary<int, BioState>.Empty;

    internal ImmutableHashSet<int> UsedBios { get; init; } = [];

    internal ImmutableSortedDictionary<int, FvState> FvMap { get; init; } = ImmutableSortedDictionary<int, FvState>.Empty;

    internal ImmutableSortedDictionary<int, NetfsState> NetfsMap { get; init; } = ImmutableSortedDictionary<int, NetfsState>.Empty;

    internal ImmutableHashSet<int> UsedNetfs { get; init; } = [];

    internal Prov AcquiredProv { get; init; } = Prov.Untouched;

    internal Prov ReleasedProv { get; init; } = Prov.Untouched;

    /// <summary>The address spaces with MMF_HAS_PINNED set (GUP-PIN-MARKS-MM): never cleared.</summary>
    internal ImmutableSortedSet<int> PinnedMms { get; init; } = [];

    /// <summary>Number of state-changing steps taken; provenance is grouped by it.</summary>
    internal long StepNo { get; init; }

    /// <summary>Folios the last state-changing command addressed (for CORE-NO-COLLATERAL).</summary>
    internal string[] LastTouched { get; init; } = [];

    /// <summary>Whether the command that made this state addressed folio <paramref name="key"/> (a handful at most).</summary>
    internal bool WasTouchedLast(string key)
    {
        foreach (var k in LastTouched)
        {
            if (string.Equals(k, key, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // What is worked out from the regions and late folios alone (see StateLayout): shared with the state this one was
    // stepped from when the step changed neither, which most steps do not.
    private StateLayout? _layout;

    /// <summary>This state's <see cref="StateLayout"/>; a step that changes neither list passes it on (StepContext.Finish).</summary>
    internal StateLayout Layout
    {
        get => _layout ??= new StateLayout(RegionList, LateFolios);
        init => _layout = value;
    }

    internal RegionState? RegionById(int id) => Layout.RegionById(id);

    /// <summary>A region that must exist (regions are never unmapped): its absence is an error of the model.</summary>
    internal RegionState KnownRegion(int id) => RegionById(id) ?? throw new InvalidOperationException($"no region {StepContext.Num(id)}");

    /// <summary>The region (VMA) of address space <paramref name="mm"/> containing <paramref name="addr"/>, or null for a hole.</summary>
    internal RegionState? RegionAt(ulong addr, int mm = 0)
    {
        foreach (var r in Layout.Regions)
        {
            if (r.Mm == mm && r.Contains(addr))
            {
                return r;
            }
        }

        return null;
    }

    /// <summary>The folio's current state, materialising a never-touched region folio at its creation value; null if no such folio.</summary>
    internal FolioState? FindFolio(string key)
    {
        if (FolioMap.TryGetValue(key, out var f))
        {
            return f;
        }

        return TryParseKey(key, out var region, out var index) && RegionById(region) is { } r ? r.FreshFolio(index) : null;
    }

    /// <summary>Whether <see cref="FindFolio"/> finds the folio (without materialising it).</summary>
    internal bool HasFolio(string key)
    {
        if (FolioMap.ContainsKey(key))
        {
            return true;
        }

        return TryParseKey(key, out var region, out var index) && RegionById(region) is { } r && r.HasOwnFolio(index);
    }

    internal static bool TryParseKey(string key, out int region, out long index)
    {
        region = 0;
        index = 0;
        var dot = key.IndexOf(".f", StringComparison.Ordinal);
        return key.StartsWith('r') && dot > 1
            && int.TryParse(key.AsSpan(1, dot - 1), NumberStyles.None, CultureInfo.InvariantCulture, out region)
            && long.TryParse(key.AsSpan(dot + 2), NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }

    /// <summary>
    /// Takes over the views <paramref name="before"/> has made that this state would make alike, because what they are
    /// made from is the very same object: most steps change neither the regions nor the pages arrays nor the iterators,
    /// and the generator asks every state for them. Only for a state just made (StepContext.Finish).
    /// </summary>
    internal ModelState SharingViewsOf(ModelState before)
    {
        if (ReferenceEquals(RegionList, before.RegionList))
        {
            _regions ??= before._regions;
        }

        if (ReferenceEquals(ArrayMap, before.ArrayMap))
        {
            _arrays ??= before._arrays;
        }

        if (ReferenceEquals(IterMap, before.IterMap))
        {
            _iters ??= before._iters;
        }

        return this;
    }

    private List<RegionView> BuildRegions() => [.. RegionList.Select(r => r.View)];

    private Dictionary<int, IReadOnlyList<EntryRun>> BuildArrays() =>
        ArrayMap.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<EntryRun>)kv.Value.Runs);

    private List<IterView> BuildIters() => [.. IterMap.Values.Select(i => i.View)];

    private List<FvView> BuildFrameVectors() => [.. FvMap.Values.Select(f => f.View)];

    private List<FolioView> BuildFolios()
    {
        var list = new List<FolioView>();
        foreach (var r in RegionList)
        {
            for (long i = 0; r.HasOwnFolio(i); i++)
            {
                list.Add(InspectStep.View(Profile, FindFolio(RegionState.FolioKey(r.Id, i))!));
            }
        }

        list.AddRange(LateFolios.Select(k => InspectStep.View(Profile, FolioMap[k])));
        return list;
    }

    private SortedDictionary<string, string> BuildDescribe()
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["vmstat.nr_foll_pin_acquired"] = L(Acquired),
            ["vmstat.nr_foll_pin_released"] = L(Released),
        };
        foreach (var r in RegionList)
        {
            d[$"region.r{L(r.Id)}"] = DescribeRegion(r);
        }

        // Folios still at their creation value are described by their region line.
        foreach (var (key, f) in FolioMap)
        {
            d["folio." + key] = f.Describe();
        }

        foreach (var (id, a) in ArrayMap)
        {
            d[$"array.{L(id)}"] = DescribeArray(a);
        }

        foreach (var (id, i) in IterMap)
        {
            d[$"iter.{L(id)}"] = DescribeIter(i);
        }

        foreach (var (id, b) in BioMap)
        {
            d[$"bio.{L(id)}"] = b.Describe();
        }

        foreach (var (id, f) in FvMap)
        {
            d[$"fv.{L(id)}"] = f.Describe();
        }

        foreach (var (id, n) in NetfsMap)
        {
            d[$"netfs.{L(id)}"] = DescribeNetfs(n);
        }

        foreach (var mm in PinnedMms)
        {
            d[$"mm.{L(mm)}"] = "has_pinned";
        }

        return d;
    }

    private static string L(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string DescribeRegion(RegionState r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Kind} 0x{r.Start:x}-0x{r.End:x} folios={r.Folios} order={r.Order} start_refcount={r.StartRefcount} faulted={r.Faulted.Count}{(r.Movable ? $" movable migrated={r.Migrated.Count}" : string.Empty)}");

    private static string DescribeArray(ArrayState a) => $"entries={L(a.Entries)} outstanding={L(a.Outstanding)}";

    private static string DescribeIter(IterState i) => $"{i.Kind} {i.Dir} count={L(i.Count)} segs={L(i.Segs.Count)}";

    private static string DescribeNetfs(NetfsState n) => $"will_pin={(n.WillPin ? "true" : "false")} bvecs={L(n.Bvecs)}";

    /// <summary>
    /// The entries of <see cref="Describe"/> that differ from <paramref name="before"/>'s, as (key, before, after) with
    /// null for an entry one side lacks, in key order. When this state was made by one step from
    /// <paramref name="before"/> (the executor's trace asks exactly that after every action), only the entries that
    /// step set or removed are looked at (<see cref="Changes"/>), so a step costs what it changed, not the size of the
    /// state: a long trace's state keeps every pages array, iterator and frame vector it ever made, and walking them
    /// all after every action made tracing quadratic in the trace's length. Between any other two states, every entry
    /// is compared (only those whose state object changed are described: the collections are shared between states).
    /// </summary>
    public IReadOnlyList<(string Key, string? Before, string? After)> DescribeChanges(ModelState before)
    {
        ArgumentNullException.ThrowIfNull(before);
        if (ReferenceEquals(this, before))
        {
            return [];
        }

        var changes = new List<(string Key, string? Before, string? After)>();
        if (Acquired != before.Acquired)
        {
            changes.Add(("vmstat.nr_foll_pin_acquired", L(before.Acquired), L(Acquired)));
        }

        if (Released != before.Released)
        {
            changes.Add(("vmstat.nr_foll_pin_released", L(before.Released), L(Released)));
        }

        if (Changes is { } step && step.From == before.Serial)
        {
            OneStep(step, before, changes);
        }
        else
        {
            CompareAll(before, changes);
        }

        foreach (var mm in PinnedMms.Except(before.PinnedMms))
        {
            changes.Add(($"mm.{L(mm)}", null, "has_pinned"));
        }

        changes.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
        return changes;
    }

    /// <summary>Adds entry <paramref name="key"/> when its description differs between <paramref name="was"/> and <paramref name="now"/> (null: absent on that side).</summary>
    private static void Add<TValue>(List<(string Key, string? Before, string? After)> changes, string key, TValue? was, TValue? now, Func<TValue, string> text)
        where TValue : class
    {
        if (ReferenceEquals(was, now))
        {
            return;
        }

        var (a, b) = (was is null ? null : text(was), now is null ? null : text(now));
        if (!string.Equals(a, b, StringComparison.Ordinal))
        {
            changes.Add((key, a, b));
        }
    }

    /// <summary>The described entries <paramref name="step"/> set or removed that differ from <paramref name="before"/>'s.</summary>
    private void OneStep(StepChanges step, ModelState before, List<(string Key, string? Before, string? After)> changes)
    {
        var seen = new HashSet<ChangedKey>();
        foreach (var k in step.Keys)
        {
            if (!seen.Add(k))
            {
                continue;
            }

            var id = k.Id;
            switch (k.Kind)
            {
                case ChangedKind.Region:
                    Add(changes, $"region.r{L(id)}", before.RegionById(id), RegionById(id), DescribeRegion);
                    break;
                case ChangedKind.Folio:
                    Add(changes, "folio." + k.Folio, before.FolioMap.GetValueOrDefault(k.Folio!), FolioMap.GetValueOrDefault(k.Folio!), f => f.Describe());
                    break;
                case ChangedKind.Array:
                    Add(changes, $"array.{L(id)}", before.ArrayMap.GetValueOrDefault(id), ArrayMap.GetValueOrDefault(id), DescribeArray);
                    break;
                case ChangedKind.Iter:
                    Add(changes, $"iter.{L(id)}", before.IterMap.GetValueOrDefault(id), IterMap.GetValueOrDefault(id), DescribeIter);
                    break;
                case ChangedKind.Bio:
                    Add(changes, $"bio.{L(id)}", before.BioMap.GetValueOrDefault(id), BioMap.GetValueOrDefault(id), b => b.Describe());
                    break;
                case ChangedKind.Fv:
                    Add(changes, $"fv.{L(id)}", before.FvMap.GetValueOrDefault(id), FvMap.GetValueOrDefault(id), f => f.Describe());
                    break;
                default:
                    Add(changes, $"netfs.{L(id)}", before.NetfsMap.GetValueOrDefault(id), NetfsMap.GetValueOrDefault(id), DescribeNetfs);
                    break;
            }
        }
    }

    /// <summary>Every described entry that differs from <paramref name="before"/>'s (the vmstat counters and mms aside).</summary>
    private void CompareAll(ModelState before, List<(string Key, string? Before, string? After)> changes)
    {
        void Compare<TKey, TValue>(string prefix, IEnumerable<KeyValuePair<TKey, TValue>> now, Func<TKey, TValue?> old, IEnumerable<KeyValuePair<TKey, TValue>> was, Func<TKey, bool> still, Func<TValue, string> text)
            where TValue : class
        {
            static string Key(string prefix, TKey k) => prefix + string.Format(CultureInfo.InvariantCulture, "{0}", k);
            foreach (var (k, v) in now)
            {
                if (old(k) is var o && !ReferenceEquals(o, v))
                {
                    Add(changes, Key(prefix, k), o, v, text);
                }
            }

            foreach (var (k, v) in was)
            {
                if (!still(k))
                {
                    Add(changes, Key(prefix, k), v, null, text);
                }
            }
        }

        Compare("region.r", RegionList.Select(r => KeyValuePair.Create(r.Id, r)), id => before.RegionById(id), before.RegionList.Select(r => KeyValuePair.Create(r.Id, r)), id => RegionById(id) is not null, DescribeRegion);
        Compare("folio.", FolioMap, k => before.FolioMap.GetValueOrDefault(k), before.FolioMap, FolioMap.ContainsKey, f => f.Describe());
        Compare("array.", ArrayMap, k => before.ArrayMap.GetValueOrDefault(k), before.ArrayMap, ArrayMap.ContainsKey, DescribeArray);
        Compare("iter.", IterMap, k => before.IterMap.GetValueOrDefault(k), before.IterMap, IterMap.ContainsKey, DescribeIter);
        Compare("bio.", BioMap, k => before.BioMap.GetValueOrDefault(k), before.BioMap, BioMap.ContainsKey, b => b.Describe());
        Compare("fv.", FvMap, k => before.FvMap.GetValueOrDefault(k), before.FvMap, FvMap.ContainsKey, f => f.Describe());
        Compare("netfs.", NetfsMap, k => before.NetfsMap.GetValueOrDefault(k), before.NetfsMap, NetfsMap.ContainsKey, DescribeNetfs);
    }
}

/// <summary>
/// What a state's regions and late folios alone decide: the regions as an array, by id, and the keys of every folio.
/// Immutable lists are slow to walk, and a state is inspected once per folio, so these are worked out once and shared by
/// the states of consecutive steps that left both lists as they were. Lazily built; a race only builds a part twice.
/// </summary>
internal sealed class StateLayout(ImmutableList<RegionState> regions, ImmutableList<string> lateFolios)
{
    private RegionState[]? _regions;
    private Dictionary<int, RegionState>? _byId;
    private List<string>? _folioKeys;

    public RegionState[] Regions => _regions ??= [.. regions];

    public RegionState? RegionById(int id)
    {
        var all = Regions;
        if (all.Length <= 8)
        {
            foreach (var r in all)
            {
                if (r.Id == id)
                {
                    return r;
                }
            }

            return null;
        }

        _byId ??= all.ToDictionary(r => r.Id);
        return _byId.GetValueOrDefault(id);
    }

    /// <summary>Every folio's key: each region's own folios in region order, then the late folios in creation order.</summary>
    public List<string> FolioKeys => _folioKeys ??= BuildFolioKeys();

    private List<string> BuildFolioKeys()
    {
        var list = new List<string>();
        foreach (var r in Regions)
        {
            for (long i = 0; r.HasOwnFolio(i); i++)
            {
                list.Add(RegionState.FolioKey(r.Id, i));
            }
        }

        list.AddRange(lateFolios);
        return list;
    }
}
