using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// The FOLL_LONGTERM loop of __gup_longterm_locked() (CONTRACT §3 item 8): pin the range, and if a pinned folio is not
/// folio_is_longterm_pinnable() — an order-0 Anon folio of a movable region not migrated yet — unpin every entry of that
/// walk (GUP-MIGRATE-UNPINS-ALL), migrate the folios (GUP-MIGRATE-MOVABLE) or fail with -ENOMEM when one is held
/// by someone else (GUP-MIGRATE-BUSY-ENOMEM), and walk again. Read in 6.12.118 and 6.1.192 mm/gup.c and the v5.19/v6.0
/// text; the profiles before v5.13 offer no movable region.
/// </summary>
internal static class LongtermMigration
{
    /// <summary>
    /// The index in [<paramref name="start"/>, +<paramref name="nrPages"/>) of the first page of address space
    /// <paramref name="mm"/> that is still movable, or null. Only movable regions are scanned page by page (they are small).
    /// </summary>
    public static long? FirstMovable(IEnumerable<RegionState> regions, ulong start, long nrPages, int mm = 0)
    {
        long? first = null;
        var end = (UInt128)start + ((UInt128)(ulong)nrPages * (ulong)Sizes.PageSize);
        foreach (var r in regions)
        {
            if (!r.Movable || r.Mm != mm || r.End <= start || r.Start >= end)
            {
                continue;
            }

            var from = r.Start >= start ? 0 : (long)((start - r.Start) / (ulong)Sizes.PageSize);
            var to = (UInt128)r.End <= end ? r.Pages : (long)((ulong)(end - r.Start) / (ulong)Sizes.PageSize);
            for (var page = from; page < to; page++)
            {
                if (r.IsMovable(page >> r.Order))
                {
                    var index = (long)((r.Start + ((ulong)page * (ulong)Sizes.PageSize) - start) / (ulong)Sizes.PageSize);
                    first = first is { } f ? Math.Min(f, index) : index;
                    break;
                }
            }
        }

        return first;
    }

    /// <summary>Whether folio <paramref name="key"/> is still in a movable area (!folio_is_longterm_pinnable()).</summary>
    private static bool IsMovable(StepContext ctx, string key) =>
        ModelState.TryParseKey(key, out var region, out var index) && ctx.RegionById(region).IsMovable(index);

    /// <summary>
    /// After the first walk of a FOLL_LONGTERM pin: <paramref name="fastPrefix"/> entries were taken by GUP-fast (which
    /// refuses a movable folio before counting it and hands the rest to the slow path), the rest by the slow walk, the
    /// only entries check_and_migrate_movable_pages() sees. Returns the walk as the call ends it.
    /// </summary>
    public static GupCore.WalkResult Settle(StepContext ctx, GupCore.WalkResult walk, long fastPrefix, ulong start, long nrPages, Foll flags, Hold hold, IReadOnlyList<string>? cause, int mm)
    {
        if (walk.Done <= fastPrefix)
        {
            return walk;
        }

        var (head, tail) = ReleaseStep.SplitAt(walk.Entries, fastPrefix);
        var collected = tail.Select(r => r.Folio).Distinct(StringComparer.Ordinal).Where(k => IsMovable(ctx, k)).ToList();
        if (collected.Count == 0)
        {
            return walk;
        }

        // migrate_longterm_unpinnable_folios(): every entry of the slow walk is unpinned, movable or not.
        List<string> unpinned = ["GUP-MIGRATE-UNPINS-ALL", "GUP-MIGRATE-MOVABLE"];
        var rules = new List<string>(walk.Rules);
        foreach (var run in tail)
        {
            FolioOps.PutFolio(ctx, run.Folio, run.Count, asPin: true, Hold.Pin, rules, unpinned);
        }

        rules.AddRange(unpinned);
        if (ctx.Profile.HasPinVmstat)
        {
            ctx.ReleasedProv = ctx.ReleasedProv.Change(ctx.StepNo, unpinned);
        }

        // migrate_pages(MIGRATE_SYNC): a folio with a reference besides its one mapping cannot be moved
        // (__folio_migrate_mapping(): refcount != expected → -EAGAIN, retried, then counted failed) → -ENOMEM.
        // migrate_pages() moves every folio it can and returns how many it could not.
        var stuck = collected.Where(k => ctx.Folio(k).Refcount != 1).ToList();
        foreach (var k in collected.Except(stuck, StringComparer.Ordinal))
        {
            Migrate(ctx, k);
        }

        if (stuck.Count > 0)
        {
            List<string> busy = ["GUP-MIGRATE-BUSY-ENOMEM", .. unpinned];
            foreach (var k in stuck)
            {
                var f = ctx.Folio(k);
                ctx.Put(f with { RefProv = f.RefProv.Change(ctx.StepNo, busy) });
            }

            if (ctx.Profile.HasPinVmstat)
            {
                ctx.ReleasedProv = ctx.ReleasedProv.Change(ctx.StepNo, busy);
            }

            rules.Add("GUP-MIGRATE-BUSY-ENOMEM");
            return new GupCore.WalkResult(fastPrefix, -Errno.ENOMEM, busy, head, rules);
        }

        // -EAGAIN: __gup_longterm_locked() walks the slow part again; the new folios are pinnable, so it ends there.
        List<string> again = [.. cause ?? [], "GUP-MIGRATE-MOVABLE"];
        var second = GupCore.Walk(ctx, start + ((ulong)fastPrefix * (ulong)Sizes.PageSize), nrPages - fastPrefix, flags, hold, again, mm);
        if (ctx.Profile.HasPinVmstat)
        {
            ctx.AcquiredProv = ctx.AcquiredProv.Change(ctx.StepNo, ["GUP-MIGRATE-MOVABLE"]);
        }

        rules.AddRange(second.Rules);
        return new GupCore.WalkResult(fastPrefix + second.Done, second.Error, second.ErrorRules, head.AddRange(second.Entries), rules);
    }

    /// <summary>
    /// The folio at that address is replaced by a fresh, non-movable one: refcount 1 (its mapping, the only reference a
    /// migratable folio had), no pins, the dirty flag moved over (folio_migrate_flags()). It keeps the key r{R}.f{i}.
    /// </summary>
    private static void Migrate(StepContext ctx, string key)
    {
        ModelState.TryParseKey(key, out var region, out var index);
        var r = ctx.RegionById(region);
        ctx.ReplaceRegion(r, r with { Migrated = r.Migrated.Add(index) });
        var old = ctx.Folio(key);
        List<string> why = ["GUP-MIGRATE-MOVABLE"];
        var fresh = FolioState.Fresh(key, old.Order, 1) with
        {
            Dirty = old.Dirty,
            RefProv = Prov.Made(ctx.StepNo, why),
            PinProv = Prov.Made(ctx.StepNo, why),
            DirtyProv = old.Dirty ? old.DirtyProv.Change(ctx.StepNo, why) : old.DirtyProv.Decide(why),
        };
        ctx.Put(fresh);
        ctx.Touch(key);
    }
}
