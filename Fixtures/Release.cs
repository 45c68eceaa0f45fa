using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// The release side of mm/gup.c: put_page(), unpin_user_page(), unpin_user_pages() batching runs of one folio,
/// unpin_user_pages_dirty_lock() and unpin_user_page_range_dirty_lock() chunking by folio. Every unpin goes
/// through gup_put_folio(), so the arithmetic is the grab's exact inverse.
/// </summary>
public partial class KernelStyleImplementation
{
    private Observation DoRelease(Release c)
    {
        var pages = CallArray(c.Call);
        switch (c.Fn)
        {
            case ReleaseFn.PutPage:
                foreach (var span in pages.Slice(c.Index, c.Count))
                {
                    for (long k = 0; k < span.Count; k++)
                    {
                        PutPage(new Page(span.Folio, span.First + k));
                    }
                }

                break;
            case ReleaseFn.UnpinUserPage:
                foreach (var span in pages.Slice(c.Index, c.Count))
                {
                    for (long k = 0; k < span.Count; k++)
                    {
                        UnpinUserPage(new Page(span.Folio, span.First + k));
                    }
                }

                break;
            case ReleaseFn.UnpinUserPages:
                UnpinUserPages(pages, c.Index, c.Count);
                break;
            case ReleaseFn.UnpinUserPagesDirtyLock:
                UnpinUserPagesDirtyLock(pages, c.Index, c.Count, c.MakeDirty);
                break;
            case ReleaseFn.UnpinUserPageRangeDirtyLock:
                UnpinUserPageRangeDirtyLock(pages[c.Index], c.Count, c.MakeDirty);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(c));
        }

        return Done();
    }

    /// <summary>unpin_user_page(): gup_put_folio(page_folio(page), 1, FOLL_PIN) (REL-UNPIN-BIAS, REL-UNPIN-EXACT, REL-UNPIN-PLUS-ONE).</summary>
    protected virtual void UnpinUserPage(Page page) => GupPutFolio(page.Folio, 1, FOLL_PIN);

    /// <summary>
    /// gup_folio_next(): the folio of entry i and how many consecutive entries from i share it. Runs of the same
    /// folio may span several array spans (e.g. the zero page repeated).
    /// </summary>
    protected static List<(Folio Folio, long Run)> FolioRuns(PageArray pages, long index, long count)
    {
        var runs = new List<(Folio Folio, long Run)>();
        foreach (var span in pages.Slice(index, count))
        {
            if (runs.Count > 0 && ReferenceEquals(runs[^1].Folio, span.Folio))
            {
                runs[^1] = (span.Folio, runs[^1].Run + span.Count);
            }
            else
            {
                runs.Add((span.Folio, span.Count));
            }
        }

        return runs;
    }

    /// <summary>
    /// unpin_user_pages(): REL-UNPIN-PAGES-BATCH — runs of consecutive entries in one folio are released with one
    /// gup_put_folio(folio, run, FOLL_PIN); the totals equal one unpin per entry.
    /// </summary>
    protected virtual void UnpinUserPages(PageArray pages, long index, long npages)
    {
        foreach (var (folio, run) in FolioRuns(pages, index, npages))
        {
            GupPutFolio(folio, checked((int)run), FOLL_PIN);
        }
    }

    /// <summary>
    /// unpin_user_pages_dirty_lock(). REL-UNPIN-DIRTY-LOCK: make_dirty == false is unpin_user_pages(); otherwise
    /// each run's folio is dirtied once if clean (folio_lock; folio_mark_dirty — large folios included), then unpinned.
    /// </summary>
    protected virtual void UnpinUserPagesDirtyLock(PageArray pages, long index, long npages, bool makeDirty)
    {
        if (!makeDirty)
        {
            UnpinUserPages(pages, index, npages);
            return;
        }

        foreach (var (folio, run) in FolioRuns(pages, index, npages))
        {
            FolioMarkDirtyLock(folio);
            GupPutFolio(folio, checked((int)run), FOLL_PIN);
        }
    }

    /// <summary>
    /// unpin_user_page_range_dirty_lock(). REL-UNPIN-RANGE-DIRTY-LOCK: page..page+npages-1 are physically
    /// contiguous; gup_folio_range_next() chunks them by folio, dirtying each chunk's folio once, then unpinning.
    /// </summary>
    protected virtual void UnpinUserPageRangeDirtyLock(Page page, long npages, bool makeDirty)
    {
        for (long i = 0; i < npages;)
        {
            var folio = page.Folio;
            var nr = FolioRangeChunk(page, npages - i);
            if (makeDirty)
            {
                FolioMarkDirtyLock(folio);
            }

            GupPutFolio(folio, checked((int)nr), FOLL_PIN);
            i += nr;
            if (i < npages)
            {
                page = PhysicalPageAfter(folio, page.Index + nr - 1);
            }
        }
    }

    /// <summary>gup_folio_range_next(): nr = min(npages - i, folio_nr_pages(folio) - folio_page_idx(folio, page)).</summary>
    protected virtual long FolioRangeChunk(Page page, long remaining) =>
        Math.Min(remaining, page.Folio.NrPages - page.Index);

    /// <summary>nth_page(page, 1): the next physical page — the next subpage, or page 0 of the region's next folio.</summary>
    protected static Page PhysicalPageAfter(Folio folio, long index)
    {
        if (index + 1 < folio.NrPages)
        {
            return new Page(folio, index + 1);
        }

        var region = folio.Region ?? throw new InvalidOperationException($"{folio.Key} has no physical successor");
        var next = folio.Index + 1 < region.Folios.Length ? region.Folios[folio.Index + 1] : null;
        return next is null
            ? throw new InvalidOperationException($"{folio.Key} has no physical successor")
            : new Page(next, 0);
    }

    /// <summary>if (!folio_test_dirty(folio)) { folio_lock(); folio_mark_dirty(); folio_unlock(); }</summary>
    protected static void FolioMarkDirtyLock(Folio folio)
    {
        if (!folio.Dirty)
        {
            folio.Dirty = true;
        }
    }
}
