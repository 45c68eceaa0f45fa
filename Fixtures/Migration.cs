using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// The FOLL_LONGTERM migration of mm/gup.c (6.12.118: __gup_longterm_locked(), check_and_migrate_movable_pages_or_folios(),
/// collect_longterm_unpinnable_folios(), migrate_longterm_unpinnable_folios(); 6.1.192 and v5.19 the pages-based
/// versions, observably the same): pin, and while a pinned folio is not longterm-pinnable unpin everything, migrate and
/// pin again.
/// </summary>
public partial class KernelStyleImplementation
{
    /// <summary>A pin with FOLL_LONGTERM into a pages array, in an era that migrates movable pages first.</summary>
    protected bool IsMigratingLongtermPin(long gupFlags, PageArray? pages) =>
        Profile.MigratesLongtermMovable && pages is not null
        && (gupFlags & (FOLL_PIN | FOLL_LONGTERM)) == (FOLL_PIN | FOLL_LONGTERM);

    /// <summary>folio_is_longterm_pinnable(): not in ZONE_MOVABLE nor a MIGRATE_CMA pageblock (the zero page always is).</summary>
    protected static bool FolioIsLongtermPinnable(Folio folio) => folio.IsZeroPfn || !folio.Movable;

    /// <summary>
    /// __gup_longterm_locked(): do { nr = __get_user_pages_locked(); if (nr &lt;= 0) break; rc =
    /// check_and_migrate_movable_pages(nr, pages); } while (rc == -Errno.EAGAIN). The slow walk fills its own part of the array.
    /// </summary>
    protected long GupLongtermLocked(int mm, ulong start, long nrPages, long gupFlags, PageArray pages)
    {
        while (true)
        {
            var part = new PageArray();
            var nr = GetUserPagesOnce(mm, start, nrPages, gupFlags, part);
            if (nr <= 0)
            {
                return nr;
            }

            var rc = CheckAndMigrateMovablePages(part);
            if (rc == -Errno.EAGAIN)
            {
                continue;
            }

            if (rc != 0)
            {
                return rc;
            }

            pages.AddRange(part, 0, part.Length);
            return nr;
        }
    }

    /// <summary>collect_longterm_unpinnable_folios(): the distinct folios of the array that may not stay pinned.</summary>
    protected virtual long CheckAndMigrateMovablePages(PageArray pages)
    {
        var collected = new List<Folio>();
        foreach (var span in pages.Spans)
        {
            if (!FolioIsLongtermPinnable(span.Folio) && !collected.Contains(span.Folio))
            {
                collected.Add(span.Folio);
            }
        }

        return collected.Count == 0 ? 0 : MigrateLongtermUnpinnableFolios(collected, pages);
    }

    /// <summary>
    /// migrate_longterm_unpinnable_folios(): unpin_folio() + pofs_clear_entry() on every entry, then migrate_pages(): a folio
    /// referenced beyond its mapping is not migrated (→ -ENOMEM); otherwise -EAGAIN, to pin again.
    /// </summary>
    protected virtual long MigrateLongtermUnpinnableFolios(List<Folio> movable, PageArray pages)
    {
        foreach (var span in pages.Spans)
        {
            for (long k = 0; k < span.Count; k++)
            {
                UnpinUserPage(new Page(span.Folio, span.First + k));
            }
        }

        pages.Clear();
        var failed = 0;
        foreach (var folio in movable)
        {
            if (FolioRefCount(folio) != FolioExpectedRefCount(folio))
            {
                failed++;
                continue;
            }

            Mm.MigrateFolio(folio);
        }

        return failed != 0 ? -Errno.ENOMEM : -Errno.EAGAIN;
    }

    /// <summary>folio_expected_ref_count() of an idle anonymous folio mapped once: its mapping.</summary>
    protected static int FolioExpectedRefCount(Folio folio) => 1;

    /// <summary>
    /// How far GUP-fast's lockless walk of a long-term pin gets: up to the first folio that is not longterm-pinnable
    /// (try_grab_folio_fast() gives its reference back there before counting), or null when the range holds none.
    /// </summary>
    protected long? GupFastUnpinnableIndex(ulong start, long nrPages)
    {
        for (long i = 0; i < nrPages; i++)
        {
            var addr = start + ((ulong)i << Sizes.PageShift);
            var vma = Mm.FindVma(addr);
            if (vma is null)
            {
                return null;
            }

            if (vma.Movable && vma.Folios[vma.PageIndex(addr) >> vma.Order] is { } folio && !FolioIsLongtermPinnable(folio))
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>
    /// gup_fast_fallback() when the lockless walk stopped at entry <paramref name="nrPinned"/>: those entries are pinned as
    /// GUP-fast pins them, the rest go to __gup_longterm_locked(); an error there returns nrPinned if it is not 0.
    /// </summary>
    protected long GupFastThenLongtermLocked(ulong start, long nrPages, long nrPinned, long gupFlags, PageArray pages)
    {
        if (nrPinned > 0)
        {
            var got = GetUserPagesOnce(0, start, nrPinned, gupFlags, pages);
            if (got != nrPinned)
            {
                throw new InvalidOperationException("GUP-fast took fewer pages than the contract allows (CONTRACT §10: only plain anonymous pages before a movable one)");
            }
        }

        var ret = GupLongtermLocked(0, start + ((ulong)nrPinned << Sizes.PageShift), nrPages - nrPinned, gupFlags, pages);
        return ret < 0 ? (nrPinned > 0 ? nrPinned : ret) : ret + nrPinned;
    }
}
