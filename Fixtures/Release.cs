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

    // include/linux/err.h MAX_ERRNO: IS_ERR_VALUE(x) is x >= (unsigned long)-MAX_ERRNO.
    protected const ulong MAX_ERRNO = 4095;

    /// <summary>
    /// The UnpinArray command: the caller builds struct page *array[] = { NULL × NullPrefix, the entries }, and passes
    /// npages = the number of pointers, or a -errno it got from GUP, to unpin_user_pages[_dirty_lock]().
    /// </summary>
    private Observation DoUnpinArray(UnpinArray c)
    {
        var array = new List<Page?>();
        for (var i = 0; i < c.NullPrefix; i++)
        {
            array.Add(null);
        }

        foreach (var span in CallArray(c.Call).Slice(c.Index, c.Count))
        {
            for (long k = 0; k < span.Count; k++)
            {
                array.Add(new Page(span.Folio, span.First + k));
            }
        }

        var npages = c.Errno != 0 ? unchecked((ulong)-(long)c.Errno) : (ulong)array.Count;
        if (c.Fn == ReleaseFn.UnpinUserPagesDirtyLock)
        {
            UnpinUserPagesDirtyLockArray(array, npages, c.MakeDirty);
        }
        else
        {
            UnpinUserPagesArray(array, npages);
        }

        return Done();
    }

    /// <summary>IS_ERR_VALUE(npages): the count is a negative errno seen as unsigned long.</summary>
    protected static bool IsErrValue(ulong npages) => npages >= unchecked((ulong)-(long)MAX_ERRNO);

    /// <summary>page_folio(page): a NULL page is dereferenced, as in the kernel (an oops, never reached by a valid command).</summary>
    protected static Folio PageFolio(Page? page) =>
        page?.Folio ?? throw new InvalidOperationException("page_folio(NULL): NULL pointer dereference");

    /// <summary>
    /// gup_folio_next(list, npages, i): the folio of list[i] and how many entries from i share it. It looks at the entries
    /// after i with page_folio(), so a NULL entry right after a page is dereferenced.
    /// </summary>
    protected static (Folio Folio, ulong Nr) GupFolioNext(IReadOnlyList<Page?> list, ulong npages, ulong i)
    {
        var folio = PageFolio(list[checked((int)i)]);
        var nr = i + 1;
        for (; nr < npages; nr++)
        {
            if (!ReferenceEquals(PageFolio(list[checked((int)nr)]), folio))
            {
                break;
            }
        }

        return (folio, nr - i);
    }

    /// <summary>
    /// unpin_user_pages(pages, npages) over a caller-built array. REL-UNPIN-ERRNO-COUNT (v5.11+):
    /// WARN_ON(IS_ERR_VALUE(npages)) returns before anything is released. REL-UNPIN-NULL-ENTRY (v6.13+):
    /// if (!pages[i]) { nr = 1; continue; } where a run would start; otherwise runs go through gup_folio_next().
    /// </summary>
    protected virtual void UnpinUserPagesArray(IReadOnlyList<Page?> pages, ulong npages)
    {
        if (Profile.UnpinRefusesErrnoCount && IsErrValue(npages))
        {
            return;
        }

        for (ulong i = 0, nr; i < npages; i += nr)
        {
            if (Profile.UnpinSkipsNullEntry && pages[checked((int)i)] is null)
            {
                nr = 1;
                continue;
            }

            (var folio, nr) = GupFolioNext(pages, npages, i);
            GupPutFolio(folio, checked((int)nr), FOLL_PIN);
        }
    }

    /// <summary>
    /// unpin_user_pages_dirty_lock(pages, npages, make_dirty) over a caller-built array: make_dirty false is
    /// unpin_user_pages(); otherwise no errno test and no NULL skip (REL-UNPIN-DIRTY-LOCK).
    /// </summary>
    protected virtual void UnpinUserPagesDirtyLockArray(IReadOnlyList<Page?> pages, ulong npages, bool makeDirty)
    {
        if (!makeDirty)
        {
            UnpinUserPagesArray(pages, npages);
            return;
        }

        for (ulong i = 0, nr; i < npages; i += nr)
        {
            (var folio, nr) = GupFolioNext(pages, npages, i);
            FolioMarkDirtyLock(folio);
            GupPutFolio(folio, checked((int)nr), FOLL_PIN);
        }
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
