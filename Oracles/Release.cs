using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>Releasing entries of pages arrays (CONTRACT §4) and folio_add_pin().</summary>
internal static class ReleaseStep
{
    /// <summary>
    /// put_page() (REL-PUT-PAGE) or unpin_user_page[s][_dirty_lock] / unpin_user_page_range_dirty_lock() on
    /// entries [Index, Index+Count): per run of one folio, dirty once if asked (REL-UNPIN-DIRTY-LOCK,
    /// REL-UNPIN-RANGE-DIRTY-LOCK), then gup_put_folio(folio, run, FOLL_PIN) — batching gives the totals of single
    /// unpins (REL-UNPIN-PAGES-BATCH). A matching release that leaves the caller no hold on a folio exercises
    /// REL-EXACT-INVERSE.
    /// </summary>
    public static void Run(StepContext ctx, Release c)
    {
        var array = ctx.Arrays[c.Call];
        var (runs, affected) = MarkReleased(array.Runs, c.Index, c.Count);
        var unpin = c.Fn != ReleaseFn.PutPage;
        List<string> cause = c.Fn switch
        {
            ReleaseFn.UnpinUserPages => ["REL-UNPIN-PAGES-BATCH"],
            ReleaseFn.UnpinUserPagesDirtyLock => ["REL-UNPIN-DIRTY-LOCK", "REL-UNPIN-PAGES-BATCH"],
            ReleaseFn.UnpinUserPageRangeDirtyLock => ["REL-UNPIN-RANGE-DIRTY-LOCK"],
            _ => [],
        };
        var dirtyRule = c.Fn switch
        {
            ReleaseFn.UnpinUserPagesDirtyLock when c.MakeDirty => "REL-UNPIN-DIRTY-LOCK",
            ReleaseFn.UnpinUserPageRangeDirtyLock when c.MakeDirty => "REL-UNPIN-RANGE-DIRTY-LOCK",
            _ => null,
        };
        var rules = new List<string>(cause);
        foreach (var run in affected)
        {
            if (dirtyRule is not null)
            {
                FolioOps.MarkDirty(ctx, run.Folio, dirtyRule);
            }

            FolioOps.PutFolio(ctx, run.Folio, run.Count, unpin, run.Hold, rules, cause);
        }

        ctx.SetArray(c.Call, ArrayState.Of(runs));
        NoteInverses(ctx, runs, affected.Where(r => (r.Hold == Hold.Pin) == unpin), rules);
        ctx.Check("result", "0", rules);
        ctx.Exercise(rules);
        ctx.Note($"released array {StepContext.Num(c.Call)}[{StepContext.Num(c.Index)}..+{StepContext.Num(c.Count)}) with {c.Fn}");
    }

    /// <summary>
    /// unpin_user_pages[_dirty_lock](array, npages) on a caller-built array. A -errno count: WARN_ON(IS_ERR_VALUE())
    /// returns before anything is touched (REL-UNPIN-ERRNO-COUNT) — every folio of the entries passed and the release
    /// counter stay as they are. Leading NULL entries: stepped over (REL-UNPIN-NULL-ENTRY), then the entries are
    /// unpinned as unpin_user_pages() does (make_dirty is false here, so the dirty_lock call is that too).
    /// </summary>
    public static void UnpinArray(StepContext ctx, UnpinArray c)
    {
        var array = ctx.Arrays[c.Call];
        if (c.Errno != 0)
        {
            List<string> rules = ["REL-UNPIN-ERRNO-COUNT"];
            var (_, passed) = MarkReleased(array.Runs, c.Index, c.Count);
            foreach (var run in passed)
            {
                var f = ctx.Folio(run.Folio);
                ctx.Touch(run.Folio);
                ctx.Put(f with { RefProv = f.RefProv.Decide(rules), PinProv = f.PinProv.Decide(rules), DirtyProv = f.DirtyProv.Decide(rules) });
            }

            ctx.ReleasedProv = ctx.ReleasedProv.Decide(rules);
            ctx.Check("result", "0", rules);
            ctx.Exercise(rules);
            ctx.Note($"{c.Fn} with npages = -{StepContext.Num(c.Errno)}: refused, nothing released");
            return;
        }

        var (runs, affected) = MarkReleased(array.Runs, c.Index, c.Count);
        List<string> cause = ["REL-UNPIN-NULL-ENTRY", "REL-UNPIN-PAGES-BATCH"];
        var all = new List<string>(cause);
        foreach (var run in affected)
        {
            FolioOps.PutFolio(ctx, run.Folio, run.Count, asPin: true, run.Hold, all, cause);
        }

        ctx.SetArray(c.Call, ArrayState.Of(runs));
        NoteInverses(ctx, runs, affected.Where(r => r.Hold == Hold.Pin), all);
        ctx.Check("result", "0", all);
        ctx.Exercise(all);
        ctx.Note($"{c.Fn} stepped over {StepContext.Num(c.NullPrefix)} NULL entries and released array {StepContext.Num(c.Call)}[{StepContext.Num(c.Index)}..+{StepContext.Num(c.Count)})");
    }

    /// <summary>REL-EXACT-INVERSE for each folio of <paramref name="matched"/> on which <paramref name="runs"/> holds nothing more.</summary>
    public static void NoteInverses(StepContext ctx, IEnumerable<EntryRun> runs, IEnumerable<EntryRun> matched, List<string> rules)
    {
        var stillHeld = runs.Where(r => !r.Released && r.Hold != Hold.None).Select(r => r.Folio).ToHashSet(StringComparer.Ordinal);
        foreach (var folio in matched.Select(r => r.Folio).Distinct(StringComparer.Ordinal).Where(f => !stillHeld.Contains(f)))
        {
            FolioOps.NoteExactInverse(ctx, folio, rules);
        }
    }

    /// <summary>Splits runs at the range's edges and marks the entries inside released; returns the released pieces.</summary>
    public static (ImmutableList<EntryRun> Runs, List<EntryRun> Affected) MarkReleased(ImmutableList<EntryRun> runs, long index, long count)
    {
        var result = ImmutableList.CreateBuilder<EntryRun>();
        var affected = new List<EntryRun>();
        long pos = 0;
        var end = index + count;
        foreach (var r in runs)
        {
            var lo = Math.Max(pos, index);
            var hi = Math.Min(pos + r.Count, end);
            if (lo >= hi)
            {
                result.Add(r);
            }
            else
            {
                if (lo > pos)
                {
                    result.Add(r with { Count = lo - pos });
                }

                var mid = r with { First = r.First + (lo - pos), Count = hi - lo };
                affected.Add(mid);
                result.Add(mid with { Released = true });
                if (hi < pos + r.Count)
                {
                    result.Add(r with { First = r.First + (hi - pos), Count = pos + r.Count - hi });
                }
            }

            pos += r.Count;
        }

        return (result.ToImmutable(), affected);
    }

    /// <summary>Entries [0, n) and [n, end) of a run list.</summary>
    public static (ImmutableList<EntryRun> Head, ImmutableList<EntryRun> Tail) SplitAt(ImmutableList<EntryRun> runs, long n)
    {
        var head = ImmutableList.CreateBuilder<EntryRun>();
        var tail = ImmutableList.CreateBuilder<EntryRun>();
        long pos = 0;
        foreach (var r in runs)
        {
            if (pos + r.Count <= n)
            {
                head.Add(r);
            }
            else if (pos >= n)
            {
                tail.Add(r);
            }
            else
            {
                var k = n - pos;
                head.Add(r with { Count = k });
                tail.Add(r with { First = r.First + k, Count = r.Count - k });
            }

            pos += r.Count;
        }

        return (head.ToImmutable(), tail.ToImmutable());
    }

    /// <summary>The single entry at <paramref name="index"/> of a run list.</summary>
    public static EntryRun EntryAt(IEnumerable<EntryRun> runs, long index)
    {
        long pos = 0;
        foreach (var r in runs)
        {
            if (index < pos + r.Count)
            {
                return r with { First = r.First + (index - pos), Count = 1 };
            }

            pos += r.Count;
        }

        throw new ArgumentOutOfRangeException(nameof(index));
    }

    /// <summary>folio_add_pin() on an entry's folio (PIN-FOLIO-ADD-PIN, VMSTAT-ADD-PIN-UNCOUNTED); the new pin is array NewCall.</summary>
    public static void AddPin(StepContext ctx, FolioAddPin c)
    {
        var entry = EntryAt(ctx.Arrays[c.FromCall].Runs, c.Index);
        var rules = new List<string>();
        FolioOps.AddPin(ctx, entry.Folio, rules);
        var pinned = new EntryRun(entry.Folio, entry.First, 1, Hold.Pin, false);
        ctx.SetArray(c.NewCall, ArrayState.Of([pinned]));
        ctx.Check("result", "0", rules);
        ctx.Check("pages", Memory.Render([pinned]), rules);
        ctx.Exercise(rules);
        ctx.Note($"folio_add_pin({entry.Folio}) as array {StepContext.Num(c.NewCall)}");
    }
}
