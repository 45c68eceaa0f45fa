using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine.Coverage;

/// <summary>The families of argument and state edge cases the generator steers toward.</summary>
public enum EdgeFamily
{
    /// <summary>An iterator of a given kind whose first segment has length 0.</summary>
    ZeroLengthSegment,

    /// <summary>A GUP call starting inside a large folio (not at its first page) and reaching into the next folio.</summary>
    RangeCrossesFolio,

    /// <summary>unpin_user_page_range_dirty_lock() over entries starting inside a folio and crossing into the next.</summary>
    RangeUnpinCrossesFolio,

    /// <summary>A *_dirty_lock release with make_dirty over several folios whose first entry's folio is already dirty.</summary>
    MakeDirtyAlreadyDirty,

    /// <summary>A flag combination (and pages / NULL) that an entry point of the era refuses.</summary>
    RefusedFlags,

    /// <summary>A state shape where the accounting has a corner: a threshold, an overflow, an order, a kind of folio.</summary>
    StateShape,
}

/// <summary>The state shapes of <see cref="EdgeFamily.StateShape"/>.</summary>
public enum Shape
{
    /// <summary>A pin of an order-1 folio (exact count or the bias, by era and word size).</summary>
    PinOrder1,

    /// <summary>An Anon folio mapped at refcount 1024 (GUP_PIN_COUNTING_BIAS: maybe_dma_pinned's threshold).</summary>
    AtBias,

    /// <summary>A grab of a folio whose refcount is within 2048 of int.MaxValue (the sign check).</summary>
    NearOverflow,

    /// <summary>unpin_user_pages_dirty_lock() with make_dirty on a large folio.</summary>
    DirtyLargeFolio,

    /// <summary>A long-term write pin of a file mapping.</summary>
    LongTermFileWrite,

    /// <summary>A pin of the zero page, then its unpin.</summary>
    ZeroPinUnpin,

    /// <summary>An extraction (of at least one byte) from an iterator of a given kind.</summary>
    Extraction,

    /// <summary>
    /// A lookup without a pages array (neither FOLL_GET nor FOLL_PIN) over a folio whose refcount wrapped to &lt;= 0: where
    /// try_grab_*() test the sign before the flags it fails there too (OVF-SIGN-CHECK-WITHOUT-GRAB).
    /// </summary>
    LookupWrapped,

    /// <summary>
    /// A long-term pin of a file page through pin_user_pages_fast(): where GUP-fast pins before it vets the page and
    /// gives a refused pin back, both pin counters move (VMSTAT-FAST-TRANSIENT).
    /// </summary>
    FastLongTermFilePin,

    /// <summary>A long-term pin over a movable region (after a plain Anon one): the pages are migrated (GUP-MIGRATE-*).</summary>
    LongTermMigrate,

    /// <summary>A long-term pin of a movable page someone else holds: migration fails, -ENOMEM (GUP-MIGRATE-BUSY-ENOMEM).</summary>
    LongTermMigrateBusy,

    /// <summary>A BVEC extraction that walks on from one bvec into the next (IOV-BVEC-MULTI-SEGMENT, v6.13+).</summary>
    BvecIntoNextSegment,

    /// <summary>A bio handed more pages than max_vecs, physically contiguous ones sharing a bvec (BIO-FULL-COUNTS-BVECS).</summary>
    BioMorePagesThanVecs,

    /// <summary>A user-backed extraction whose pages array cannot be allocated: -ENOMEM, nothing pinned (IOV-ALLOC-ENOMEM).</summary>
    UserExtractionNoMem,
}

/// <summary>
/// One edge case a run should reach. <see cref="Entry"/>, <see cref="Flags"/>, <see cref="WithPages"/> and
/// <see cref="Overflow"/> are the witness of a <see cref="EdgeFamily.RefusedFlags"/> target (the call the model
/// refused when probed); <see cref="IterKind"/> names the iterator kind of a <see cref="EdgeFamily.ZeroLengthSegment"/>.
/// </summary>
public sealed record EdgeTarget(string Label, EdgeFamily Family)
{
    public IterKind? IterKind { get; init; }

    public Shape? Shape { get; init; }

    public EntryPoint? Entry { get; init; }

    public Foll Flags { get; init; }

    public bool WithPages { get; init; } = true;

    /// <summary>The witness starts just below 2^64 (API-FAST-RANGE-OVERFLOW).</summary>
    public bool Overflow { get; init; }
}

/// <summary>
/// The edge cases of issue 12, as labels: what each command reached (<see cref="Collect"/>) and what a profile's run should
/// reach (<see cref="Targets"/>, the refused flag combinations found by asking the model itself). The generator counts
/// the labels of every command it emits and spends part of its budget on targets not reached yet; the report lists them.
/// </summary>
public static class EdgeCases
{
    /// <summary>The rules that name why an entry point refused its arguments before walking.</summary>
    public static readonly IReadOnlySet<string> RefusalRules = new HashSet<string>(StringComparer.Ordinal)
    {
        "API-PIN-GET-EXCLUSIVE", "API-GET-REFUSES-PIN", "API-LONGTERM-NEEDS-PIN", "API-UNLOCKED-LONGTERM",
        "API-PAGES-REQUIRED", "API-INTERNAL-FLAGS", "API-FAST-FLAG-MASK", "API-FAST-RANGE-OVERFLOW", "API-PIN-RETURNS-ZERO",
    };

    /// <summary>Flags that never decide a refusal; a refused call is labelled without them.</summary>
    private const Foll Neutral = Foll.Write | Foll.Force;

    private static readonly ConcurrentDictionary<(string Profile, Facet Facets), IReadOnlyList<EdgeTarget>> TargetCache = new();

    public static string ZeroSegmentLabel(IterKind kind) => ZeroSegmentLabels[(int)kind];

    // The labels made of an iterator kind's name, made once: every extraction the generator emits is labelled.
    private static readonly string[] ZeroSegmentLabels = [.. Enum.GetValues<IterKind>().Select(k => "zero-length first segment: " + k.ToString().ToLowerInvariant())];
    private static readonly string[] ExtractionLabels = [.. Enum.GetValues<IterKind>().Select(k => "extraction from " + k.ToString().ToLowerInvariant())];

    public const string RangeCrossesFolioLabel = "gup range starting inside a folio and crossing it";

    public const string RangeUnpinCrossesFolioLabel = "unpin_user_page_range_dirty_lock() starting inside a folio and crossing it";

    public const string MakeDirtyAlreadyDirtyLabel = "make_dirty release over several folios, the first already dirty";

    public static string ShapeLabel(Shape shape, IterKind? kind = null) => shape switch
    {
        Shape.PinOrder1 => "pin of an order-1 folio",
        Shape.AtBias => "folio mapped at refcount 1024",
        Shape.NearOverflow => "grab of a folio within 2048 of INT_MAX",
        Shape.DirtyLargeFolio => "make_dirty unpin_user_pages_dirty_lock() of a large folio",
        Shape.LongTermFileWrite => "long-term write pin of a file mapping",
        Shape.ZeroPinUnpin => "unpin of a pinned zero page",
        Shape.LookupWrapped => "lookup without pages over a folio whose refcount wrapped",
        Shape.FastLongTermFilePin => "long-term GUP-fast pin of a file page",
        Shape.LongTermMigrate => "long-term pin of a movable page",
        Shape.LongTermMigrateBusy => "long-term pin of a movable page held by another reference",
        Shape.BvecIntoNextSegment => "bvec extraction walking on into the next bvec",
        Shape.BioMorePagesThanVecs => "bio holding more pages than max_vecs",
        Shape.UserExtractionNoMem => "user-backed extraction failing to allocate its pages array",
        _ => kind is { } k ? ExtractionLabels[(int)k] : "extraction from ",
    };

    public static string RefusedLabel(EntryPoint entry, Foll flags, bool withPages, bool overflow) =>
        RefusedLabels.GetOrAdd((entry, flags & ~Neutral, withPages, overflow), static k => string.Create(CultureInfo.InvariantCulture,
            $"{k.Entry.KernelName()} refuses {k.Flags.Render()}{(k.WithPages ? string.Empty : ", pages=NULL")}{(k.Overflow ? ", range past 2^64" : string.Empty)}"));

    // Every refused call of every sequence is labelled: the texts are made once per combination (a few hundred at most).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(EntryPoint Entry, Foll Flags, bool WithPages, bool Overflow), string> RefusedLabels = new();

    /// <summary>
    /// Adds to <paramref name="into"/> the edge-case labels <paramref name="command"/> reached from <paramref name="before"/>,
    /// with the model's <paramref name="outcome"/> (the generator labels every command it emits: into a list it reuses,
    /// not through an iterator made per command).
    /// </summary>
    public static void Collect(ModelState before, Command command, StepOutcome outcome, List<string> into)
    {
        switch (command)
        {
            case IterInit { Segs.Count: > 0 } it when it.Segs[0].Len == 0:
                into.Add(ZeroSegmentLabel(it.Kind));
                break;
            case MapRegion { Kind: RegionKind.Anon, StartRefcount: Sizes.GupPinCountingBias }:
                into.Add(ShapeLabel(Shape.AtBias));
                break;
            case IterExtract x when x.MaxSize > 0 && before.Iters.FirstOrDefault(i => i.Iter == x.Iter) is { Count: > 0 } iter:
                into.Add(ShapeLabel(Shape.Extraction, iter.Kind));
                if (iter.Kind == IterKind.Bvec && iter.Remaining.Count > 1
                    && outcome.Next.Iters.FirstOrDefault(i => i.Iter == x.Iter) is { } after && iter.Count - after.Count > iter.Remaining[0].Len)
                {
                    into.Add(ShapeLabel(Shape.BvecIntoNextSegment));
                }

                if (x.AllocFails && iter.Kind is IterKind.Ubuf or IterKind.Iovec && outcome.Exercised.Contains("IOV-ALLOC-ENOMEM"))
                {
                    into.Add(ShapeLabel(Shape.UserExtractionNoMem));
                }

                break;
            case BioAdd b when outcome.Checks.FirstOrDefault(c => c.Field == "bio_pages") is { } pages
                && long.TryParse(pages.Allowed[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > b.MaxVecs:
                into.Add(ShapeLabel(Shape.BioMorePagesThanVecs));
                break;
            case Gup g:
                if (outcome.Exercised.Any(RefusalRules.Contains))
                {
                    into.Add(RefusedLabel(g.Entry, g.Flags, g.WithPages, OverflowsAddressSpace(g)));
                    break;
                }

                if (CrossesFolio(before, g))
                {
                    into.Add(RangeCrossesFolioLabel);
                }

                if (before.Regions.FirstOrDefault(r => g.Start >= r.Start && g.Start < r.End) is { } region)
                {
                    if (region.Kind == RegionKind.Anon && region.Order == 1 && g.Entry.IsPin())
                    {
                        into.Add(ShapeLabel(Shape.PinOrder1));
                    }

                    var key = string.Create(CultureInfo.InvariantCulture, $"r{region.Region}.f{(long)((g.Start - region.Start) / (ulong)Sizes.PageSize) >> region.Order}");
                    if (region.Kind == RegionKind.Anon && before.FolioByKey(key) is { Refcount: >= int.MaxValue - 2048 })
                    {
                        into.Add(ShapeLabel(Shape.NearOverflow));
                    }

                    if (region.Kind == RegionKind.Anon && !g.WithPages && !g.Flags.Has(Foll.Get) && !g.Flags.Has(Foll.Pin)
                        && before.FolioByKey(key) is { Refcount: <= 0 })
                    {
                        into.Add(ShapeLabel(Shape.LookupWrapped));
                    }

                    if (region.Kind == RegionKind.File && g.Entry.IsPin() && g.Flags.Has(Foll.LongTerm | Foll.Write))
                    {
                        into.Add(ShapeLabel(Shape.LongTermFileWrite));
                    }

                    if (region.Kind == RegionKind.File && g.Entry == EntryPoint.PinUserPagesFast && g.Flags.Has(Foll.LongTerm))
                    {
                        into.Add(ShapeLabel(Shape.FastLongTermFilePin));
                    }

                    if (region.Movable && g.Entry.IsPin() && g.Flags.Has(Foll.LongTerm))
                    {
                        into.Add(ShapeLabel(before.FolioByKey(key) is { Refcount: > 1 } ? Shape.LongTermMigrateBusy : Shape.LongTermMigrate));
                    }
                }

                break;
            case Release r when before.Arrays.TryGetValue(r.Call, out var runs):
                var span = Span(runs, r.Index, r.Count);
                if (span is null)
                {
                    break;
                }

                if (span.Value.FirstFolio == "zero" && r.Fn != ReleaseFn.PutPage)
                {
                    into.Add(ShapeLabel(Shape.ZeroPinUnpin));
                }

                if (r.MakeDirty && r.Fn == ReleaseFn.UnpinUserPagesDirtyLock && before.FolioByKey(span.Value.FirstFolio) is { Order: > 0 })
                {
                    into.Add(ShapeLabel(Shape.DirtyLargeFolio));
                }

                if (span.Value.Folios < 2)
                {
                    break;
                }

                if (r.Fn == ReleaseFn.UnpinUserPageRangeDirtyLock && span.Value.FirstPage > 0)
                {
                    into.Add(RangeUnpinCrossesFolioLabel);
                }

                if (r.MakeDirty && r.Fn is ReleaseFn.UnpinUserPagesDirtyLock or ReleaseFn.UnpinUserPageRangeDirtyLock
                    && before.FolioByKey(span.Value.FirstFolio) is { Dirty: true })
                {
                    into.Add(MakeDirtyAlreadyDirtyLabel);
                }

                break;
        }
    }

    private static bool OverflowsAddressSpace(Gup g) => (UInt128)g.Start + ((UInt128)(ulong)g.NrPages * (ulong)Sizes.PageSize) > ulong.MaxValue;

    /// <summary>The call starts inside a folio of order &gt; 0 (not at its first page) and asks for pages past that folio's end.</summary>
    private static bool CrossesFolio(ModelState before, Gup g)
    {
        foreach (var r in before.Regions)
        {
            if (g.Start >= r.Start && g.Start < r.End && r.Order > 0 && r.Kind == RegionKind.Anon)
            {
                var page = (long)((g.Start - r.Start) / (ulong)Sizes.PageSize);
                var inFolio = page % (1L << r.Order);
                return inFolio > 0 && g.NrPages > (1L << r.Order) - inFolio && page + ((1L << r.Order) - inFolio) < r.Pages;
            }
        }

        return false;
    }

    /// <summary>Entries [index, index + count) of a pages array: the first entry's folio and page, and how many folios they span.</summary>
    private static (string FirstFolio, long FirstPage, int Folios)? Span(IReadOnlyList<EntryRun> runs, long index, long count)
    {
        long at = 0;
        string? first = null;
        long firstPage = 0;
        var folios = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in runs)
        {
            var lo = Math.Max(at, index);
            var hi = Math.Min(at + run.Count, index + count);
            if (lo < hi)
            {
                if (first is null)
                {
                    first = run.Folio;
                    firstPage = run.First + (lo - at);
                }

                folios.Add(run.Folio);
            }

            at += run.Count;
        }

        return first is null ? null : (first, firstPage, folios.Count);
    }

    /// <summary>
    /// What a run of <paramref name="profile"/> with <paramref name="facets"/> should reach: zero-length first segments
    /// of every iterator kind the facets use, the folio-crossing ranges (large folios), the make_dirty release on an
    /// already-dirty folio, and every refused flag combination of every entry point — the model is asked: each entry
    /// point with no flag, each flag alone, FOLL_LONGTERM with each flag, FOLL_PIN|FOLL_GET, with pages and with NULL,
    /// and (fast entry points) a range past 2^64, from a state with one small mapped region.
    /// </summary>
    public static IReadOnlyList<EdgeTarget> Targets(Profile profile, Facet facets) =>
        TargetCache.GetOrAdd((profile.Id, facets & profile.Facets), key => Build(profile, key.Facets));

    private static List<EdgeTarget> Build(Profile p, Facet f)
    {
        var list = new List<EdgeTarget>();
        foreach (var kind in IterKinds(p, f).Where(k => ZeroSegmentAccepted(p, k)))
        {
            list.Add(new EdgeTarget(ZeroSegmentLabel(kind), EdgeFamily.ZeroLengthSegment) { IterKind = kind });
        }

        if ((f & Facet.LargeFolios) != 0 && (f & Facet.Core) != 0)
        {
            list.Add(new EdgeTarget(RangeCrossesFolioLabel, EdgeFamily.RangeCrossesFolio));
            if (p.Pins != PinScheme.NoPins && p.Version >= 515)
            {
                list.Add(new EdgeTarget(RangeUnpinCrossesFolioLabel, EdgeFamily.RangeUnpinCrossesFolio));
            }
        }

        if ((f & Facet.Core) != 0 && p.Pins != PinScheme.NoPins)
        {
            list.Add(new EdgeTarget(MakeDirtyAlreadyDirtyLabel, EdgeFamily.MakeDirtyAlreadyDirty));
        }

        if ((f & Facet.Core) != 0)
        {
            list.AddRange(Refusals(p));
            var pins = p.Pins != PinScheme.NoPins;
            var shapes = new List<Shape> { Shape.AtBias, Shape.NearOverflow };
            if (pins && (f & Facet.LargeFolios) != 0)
            {
                shapes.AddRange([Shape.PinOrder1, Shape.DirtyLargeFolio]);
            }

            if (pins && p.Flags.Exists(Foll.LongTerm))
            {
                shapes.Add(Shape.LongTermFileWrite);
            }

            if (pins && (f & Facet.ZeroPage) != 0)
            {
                shapes.Add(Shape.ZeroPinUnpin);
            }

            if (p.SignCheckWithoutGrab)
            {
                shapes.Add(Shape.LookupWrapped);
            }

            if (p.FastPinTransients)
            {
                shapes.Add(Shape.FastLongTermFilePin);
            }

            if (p.MigratesLongtermMovable && (f & Facet.LongtermMigration) != 0)
            {
                shapes.AddRange([Shape.LongTermMigrate, Shape.LongTermMigrateBusy]);
            }

            list.AddRange(shapes.Select(s => new EdgeTarget(ShapeLabel(s), EdgeFamily.StateShape) { Shape = s }));
        }

        if ((f & Facet.IovIter) != 0 && p.Iov != IovScheme.None)
        {
            list.AddRange(Enum.GetValues<IterKind>().Select(k => new EdgeTarget(ShapeLabel(Shape.Extraction, k), EdgeFamily.StateShape) { Shape = Shape.Extraction, IterKind = k }));
        }

        // Shapes a rule turns on that random moves rarely make (each once took a zoo bug a hundred sequences or more).
        var rare = new List<Shape>();
        if ((f & Facet.IovIter) != 0 && p.Iov != IovScheme.None && IterKinds(p, f).Contains(IterKind.Bvec) && Applies(p, "IOV-BVEC-MULTI-SEGMENT"))
        {
            rare.Add(Shape.BvecIntoNextSegment);
        }

        if ((f & Facet.IovIter) != 0 && p.Iov != IovScheme.None && IterKinds(p, f).Contains(IterKind.Ubuf) && Applies(p, "IOV-ALLOC-ENOMEM"))
        {
            rare.Add(Shape.UserExtractionNoMem);
        }

        if ((f & Facet.Bio) != 0 && (f & Facet.LargeFolios) != 0 && Applies(p, "BIO-FULL-COUNTS-BVECS"))
        {
            rare.Add(Shape.BioMorePagesThanVecs);
        }

        list.AddRange(rare.Select(s => new EdgeTarget(ShapeLabel(s), EdgeFamily.StateShape) { Shape = s }));

        return list;
    }

    private static bool Applies(Profile p, string ruleId) => Rules.Get(ruleId).AppliesTo(p);

    /// <summary>The iterator kinds the generator builds for these facets (as its PickIterKind does).</summary>
    public static IReadOnlyList<IterKind> IterKinds(Profile p, Facet f)
    {
        if ((f & Facet.IovIter) != 0 && p.Iov != IovScheme.None)
        {
            return Enum.GetValues<IterKind>();
        }

        if ((f & Facet.Bio) != 0)
        {
            return [IterKind.Ubuf, IterKind.Iovec, IterKind.Bvec];
        }

        return (f & Facet.Netfs) != 0 ? [IterKind.Ubuf, IterKind.Iovec, IterKind.Kvec, IterKind.Bvec] : [];
    }

    /// <summary>
    /// Whether the model takes an iterator of <paramref name="kind"/> whose first segment is empty (it refuses an empty
    /// bvec, which the v6.13+ walk lists as a page of no bytes: CONTRACT.md's list of refused inputs), asked from a state
    /// with one small mapped region.
    /// </summary>
    public static bool ZeroSegmentAccepted(Profile p, IterKind kind)
    {
        const ulong start = SequenceGenerator.BaseAddress;
        var state = GupModel.Step(GupModel.Init(p), new MapRegion(1, RegionKind.Anon, start, 2)).Next;
        IterSeg first = kind == IterKind.Discard ? new(0, 0) : new(start, 0);
        return GupModel.Precondition(state, new IterInit(1, kind, IterDir.Dest, [first])) is null;
    }

    private static List<EdgeTarget> Refusals(Profile p)
    {
        const ulong start = SequenceGenerator.BaseAddress;
        var state = GupModel.Step(GupModel.Init(p), new MapRegion(1, RegionKind.Anon, start, 2)).Next;
        var flags = p.Flags.Entries.Select(e => e.Flag).Where(x => (x & Neutral) == 0).ToList();
        var combos = new List<Foll> { Foll.None, Foll.Pin | Foll.Get };
        combos.AddRange(flags);
        combos.AddRange(flags.Where(x => x != Foll.LongTerm && p.Flags.Exists(Foll.LongTerm)).Select(x => x | Foll.LongTerm));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<EdgeTarget>();
        var call = 1;
        foreach (var entry in p.EntryPoints)
        {
            foreach (var combo in combos.Distinct())
            {
                foreach (var withPages in new[] { true, false })
                {
                    foreach (var overflow in entry.IsFast() && combo == Foll.None ? new[] { false, true } : [false])
                    {
                        var gup = overflow
                            ? new Gup(call++, entry, unchecked(0UL - (ulong)Sizes.PageSize), 2, combo, withPages)
                            : new Gup(call++, entry, start, 1, combo, withPages);
                        if (GupModel.Precondition(state, gup) is not null)
                        {
                            continue;
                        }

                        var outcome = GupModel.Step(state, gup);
                        if (outcome.Exercised.Any(RefusalRules.Contains))
                        {
                            var label = RefusedLabel(entry, combo, withPages, overflow);
                            if (seen.Add(label))
                            {
                                list.Add(new EdgeTarget(label, EdgeFamily.RefusedFlags)
                                {
                                    Entry = entry, Flags = combo, WithPages = withPages, Overflow = overflow,
                                });
                            }
                        }
                    }
                }
            }
        }

        return list;
    }
}

/// <summary>
/// The edge cases one run reached: every label the generator's emitted commands reached, with how many sequences reached
/// it. Shared by the generator (which steers toward unreached targets) and the report. Not thread-safe: a run is one thread.
/// </summary>
public sealed class EdgeTally
{
    private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);

    public EdgeTally(IReadOnlyList<EdgeTarget> targets)
    {
        Targets = targets;
        _slot = new int[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            _order.TryAdd(targets[i], i);
            if (!_byLabel.TryGetValue(targets[i].Label, out var same))
            {
                _byLabel[targets[i].Label] = same = new LabelTargets(_byLabel.Count);
            }

            same.Targets.Add(targets[i]);
            _slot[i] = same.Slot;
        }

        _slotSequences = new long[_byLabel.Count];
    }

    public IReadOnlyList<EdgeTarget> Targets { get; }

    private readonly Dictionary<EdgeTarget, int> _order = [];
    private readonly Dictionary<string, LabelTargets> _byLabel = new(StringComparer.Ordinal);

    // The targets' labels are numbered (a slot per distinct label, LabelTargets.Slot); each target's slot, and per slot
    // the sequences that reached it (the same counts as _sequences): Unreached and NeverReached are worked out by
    // index, without hashing.
    private readonly int[] _slot;
    private readonly long[] _slotSequences;

    private sealed class LabelTargets(int slot)
    {
        public int Slot => slot;

        public List<EdgeTarget> Targets { get; } = [];
    }

    /// <summary>A target's place in <see cref="Targets"/> (what "target order" means).</summary>
    public int OrderOf(EdgeTarget target) => _order[target];

    /// <summary>
    /// The targets whose label is <paramref name="label"/> if fewer than <paramref name="sequences"/> sequences reached
    /// it, so that they are in the list of the targets reached fewer times (<see cref="NeverReached"/>: 1,
    /// <see cref="Unreached"/>: <see cref="Wanted"/>); else none.
    /// </summary>
    public IReadOnlyList<EdgeTarget> WithLabelBelow(string label, long sequences) =>
        _byLabel.TryGetValue(label, out var t) && _slotSequences[t.Slot] < sequences ? t.Targets : [];

    /// <summary>Per label (targets and any other label reached): sequences that reached it.</summary>
    public IReadOnlyDictionary<string, long> Sequences => _sequences;

    public bool Reached(string label) => _sequences.ContainsKey(label);

    /// <summary>How many sequences must reach a target before steering leaves it to chance: a rare shape is met more than once.</summary>
    public const int Wanted = 6;

    // Unreached and NeverReached change only when a counted sequence takes a target's label over a threshold (its
    // first sequence, its Wanted-th); the generator asks for them at the start of most sequences, so they are worked
    // out again only then, not once per sequence.
    private List<EdgeTarget>? _unreached;
    private List<EdgeTarget>? _never;

    /// <summary>The targets fewer than <see cref="Wanted"/> sequences have reached, in target order.</summary>
    public IReadOnlyList<EdgeTarget> Unreached => _unreached ??= ReachedBelow(Wanted);

    /// <summary>The targets no sequence has reached, in target order (a part of <see cref="Unreached"/>).</summary>
    public IReadOnlyList<EdgeTarget> NeverReached => _never ??= ReachedBelow(1);

    /// <summary>The targets fewer than <paramref name="sequences"/> sequences reached, in target order.</summary>
    private List<EdgeTarget> ReachedBelow(long sequences)
    {
        var list = new List<EdgeTarget>();
        for (var i = 0; i < _slot.Length; i++)
        {
            if (_slotSequences[_slot[i]] < sequences)
            {
                list.Add(Targets[i]);
            }
        }

        return list;
    }

    /// <summary>Counts one sequence's labels (each label once per sequence).</summary>
    public void Add(IEnumerable<string> labels)
    {
        // A sequence's labels come as an ordinal set: no need to make them distinct again.
        var distinct = labels is HashSet<string> set && ReferenceEquals(set.Comparer, StringComparer.Ordinal) ? set : labels.Distinct(StringComparer.Ordinal);
        foreach (var label in distinct)
        {
            ref var n = ref CollectionsMarshal.GetValueRefOrAddDefault(_sequences, label, out _);
            n++;
            if (_byLabel.TryGetValue(label, out var targets))
            {
                _slotSequences[targets.Slot] = n;
                _never = n == 1 ? null : _never;
                _unreached = n == Wanted ? null : _unreached;
            }
        }
    }
}
