using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>A page as the kernel hands it out: the folio it belongs to and its index inside that folio.</summary>
internal readonly record struct PageHandle(string Folio, long Index);

/// <summary>Regions (VMAs), page lookup and the faults that replace zero-page mappings.</summary>
internal static class Memory
{
    /// <summary>
    /// MapRegion: Anon folios start at StartRefcount, File pages at 1; the zero page exists (refcount 1) once a Zero
    /// region is mapped. Folios are not materialised here: a folio nobody touched is at its creation value.
    /// </summary>
    public static void Map(StepContext ctx, MapRegion c)
    {
        var start = c.Kind == RegionKind.Anon ? c.StartRefcount : 1;
        var r = new RegionState(c.Region, c.Kind, c.Start, c.Folios, c.Order, start, []) { Mm = c.Mm, Movable = c.Movable };
        ctx.AddRegion(r);
        if (c.Kind == RegionKind.Zero && !ctx.Folios.ContainsKey(FolioState.ZeroKey))
        {
            ctx.SetFolio(FolioState.Fresh(FolioState.ZeroKey, 0, 1, isZero: true));
            ctx.LateFolios = ctx.LateFolios.Add(FolioState.ZeroKey);
        }

        ctx.Note($"mapped r{StepContext.Num(c.Region)} {c.Kind}{(c.Movable ? " movable" : string.Empty)} 0x{c.Start:x}-0x{r.End:x} ({StepContext.Num(c.Folios)} folios of order {StepContext.Num(c.Order)})");
    }

    /// <summary>The page mapped at page <paramref name="page"/> of an Anon, File or Zero region.</summary>
    public static PageHandle PageOf(RegionState r, long page) => r.Kind switch
    {
        RegionKind.Anon => new PageHandle(RegionState.FolioKey(r.Id, page >> r.Order), page & (r.FolioPages - 1)),
        RegionKind.Zero when !r.Faulted.Contains(page) => new PageHandle(FolioState.ZeroKey, 0),
        _ => new PageHandle(RegionState.FolioKey(r.Id, page), 0),
    };

    /// <summary>
    /// ZERO-WRITE-FAULT / ZERO-LONGTERM-UNSHARE: page <paramref name="page"/> of a Zero region gets a fresh order-0
    /// anonymous folio r{R}.f{page} with refcount 1 (its mapping); the zero page loses nothing (the model tracks
    /// deltas only).
    /// </summary>
    public static string Fault(StepContext ctx, RegionState r, long page, string rule)
    {
        var key = RegionState.FolioKey(r.Id, page);
        var updated = r with
        {
            Faulted = r.Faulted.Add(page),
            WriteMapped = rule == "ZERO-WRITE-FAULT" ? r.WriteMapped.Add(page) : r.WriteMapped,
        };
        ctx.ReplaceRegion(r, updated);
        ctx.SetFolio(FolioState.Fresh(key, 0, 1) with { RefProv = Prov.Made(ctx.StepNo, [rule]) });
        ctx.LateFolios = ctx.LateFolios.Add(key);
        ctx.Touch(key);
        return key;
    }

    /// <summary>
    /// A write fault on a page of a Zero or File region that is mapped read-only: the PTE becomes writable. An
    /// unshared anonymous page is exclusive, so the fault reuses it; a clean file page gets dirtied
    /// (FILE-WRITE-FAULT-DIRTY) by do_shared_fault()/wp_page_shared().
    /// </summary>
    public static void WriteFault(StepContext ctx, RegionState r, long page, List<string> rules)
    {
        if (r.WriteMapped.Contains(page))
        {
            return;
        }

        ctx.ReplaceRegion(r, r with { WriteMapped = r.WriteMapped.Add(page) });
        if (r.Kind == RegionKind.File)
        {
            FolioOps.MarkDirty(ctx, RegionState.FolioKey(r.Id, page), "FILE-WRITE-FAULT-DIRTY");
            rules.Add("FILE-WRITE-FAULT-DIRTY");
        }
    }

    /// <summary>Appends a page to a run list, extending the last run when the page continues it.</summary>
    public static void Append(ImmutableList<EntryRun>.Builder runs, string folio, long first, long count, Hold hold)
    {
        if (count <= 0)
        {
            return;
        }

        if (runs.Count > 0 && runs[^1] is var last && last.Folio == folio && last.Hold == hold && !last.Released
            && last.First + last.Count == first && folio != FolioState.ZeroKey)
        {
            runs[^1] = last with { Count = last.Count + count };
        }
        else
        {
            runs.Add(new EntryRun(folio, first, count, hold, false));
        }
    }

    /// <summary>The canonical "pages" text of runs.</summary>
    public static string Render(IEnumerable<EntryRun> runs) => PageRuns.Render(runs.Select(r => new PageRun(r.Folio, r.First, r.Count)));

    /// <summary>Number of pages [addr, addr+len) touches.</summary>
    public static long PagesSpanned(ulong addr, long len) => len <= 0
        ? 0
        : (long)(((addr + (ulong)len - 1) / (ulong)Sizes.PageSize) - (addr / (ulong)Sizes.PageSize) + 1);
}
