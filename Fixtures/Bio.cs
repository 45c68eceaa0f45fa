using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>struct bio, reduced: bi_flags with the era's real bit numbers, the bvec pages counted per page,
/// bi_vcnt and bi_max_vecs, and where the data ends (the last page and the in-page end offset, for merges).</summary>
public sealed class Bio
{
    public Bio(int maxVecs, int logicalBlockSize)
    {
        MaxVecs = maxVecs;
        LogicalBlockSize = logicalBlockSize;
    }

    /// <summary>bdev_logical_block_size(bio-&gt;bi_bdev).</summary>
    public int LogicalBlockSize { get; }

    public ushort BiFlags { get; set; }

    public PageArray Pages { get; } = new();

    public int MaxVecs { get; }

    /// <summary>bi_vcnt: bvecs in the bio; physically contiguous pages share one.</summary>
    public int Vcnt { get; set; }

    public Page? LastPage { get; set; }

    /// <summary>Offset in <see cref="LastPage"/> one past the bio's last byte (1..4096).</summary>
    public long LastEnd { get; set; }

    /// <summary>bio_full(bio, 0): bi_vcnt &gt;= bi_max_vecs (BIO-FULL-COUNTS-BVECS).</summary>
    public bool Full => Vcnt >= MaxVecs;
}

/// <summary>
/// block/bio.c and block/blk.h: bio_iov_iter_get_pages() with the cleanup flag of the era, the same-page merge,
/// bio_release_pages() with the era's compound-page dirtying rule, and the v8 proposal's bio_set_cleanup_mode(),
/// bio_to_gup_flags() and page_put_unpin().
/// </summary>
public partial class KernelStyleImplementation
{
    // ≤ v6.4 (include/linux/blk_types.h): BIO_NO_PAGE_REF is bit 0 ("don't put release vec pages").
    protected const int BIO_NO_PAGE_REF = 0;

    // v8 proposal and v6.5+: BIO_PAGE_PINNED is bit 0; v8 also has BIO_PAGE_REFFED at bit 1.
    protected const int BIO_PAGE_PINNED = 0;
    protected const int BIO_PAGE_REFFED = 1;

    /// <summary>BIO_CLONED: bit 1 ≤ v6.4 (after BIO_NO_PAGE_REF) and v6.5+ (after BIO_PAGE_PINNED); bit 2 in v8 (after
    /// BIO_PAGE_PINNED and BIO_PAGE_REFFED) — BIO-FLAG-BITS.</summary>
    protected virtual int BIO_CLONED => Profile.Bio == BioScheme.ReffedAndPinned ? 2 : 1;

    private Bio BioFor(int id, int maxVecs, int logicalBlockSize)
    {
        if (!_bios.TryGetValue(id, out var bio))
        {
            bio = new Bio(maxVecs, logicalBlockSize);
            _bios[id] = bio;
        }

        return bio;
    }

    protected static bool BioFlagged(Bio bio, int bit) => (bio.BiFlags & (1 << bit)) != 0;

    protected static void BioSetFlag(Bio bio, int bit) => bio.BiFlags |= (ushort)(1 << bit);

    /// <summary>The names of the set bits, read with the era's bit layout.</summary>
    protected IReadOnlyList<string> BioFlagNames(Bio bio)
    {
        var names = new List<string>();
        if (Profile.Bio == BioScheme.NoPageRef)
        {
            if (BioFlagged(bio, BIO_NO_PAGE_REF))
            {
                names.Add("BIO_NO_PAGE_REF");
            }
        }
        else
        {
            if (BioFlagged(bio, BIO_PAGE_PINNED))
            {
                names.Add("BIO_PAGE_PINNED");
            }

            if (Profile.Bio == BioScheme.ReffedAndPinned && BioFlagged(bio, BIO_PAGE_REFFED))
            {
                names.Add("BIO_PAGE_REFFED");
            }
        }

        if (BioFlagged(bio, BIO_CLONED))
        {
            names.Add("BIO_CLONED");
        }

        return names;
    }

    /// <summary>bi_flags itself (BIO-FLAG-BITS): only the flags above are ever set here.</summary>
    protected virtual long BioFlagBits(Bio bio) => bio.BiFlags;

    private Observation DoBioAdd(BioAdd c)
    {
        var iter = Iter(c.Iter);
        var bio = BioFor(c.Bio, c.MaxVecs, c.LogicalBlockSize);
        var ret = BioIovIterGetPages(bio, iter);
        return new Observation
        {
            Result = ret, BioFlags = BioFlagNames(bio), BioFlagBits = BioFlagBits(bio), BioPages = bio.Pages.Length, IterCount = iter.Count,
        };
    }

    private Observation DoBioRelease(BioRelease c)
    {
        if (_bios.Remove(c.Bio, out var bio))
        {
            BioReleasePages(bio, c.MarkDirty);
        }

        return Done();
    }

    /// <summary>
    /// bio_iov_iter_get_pages(). A BVEC iterator is pointed at (bio_iov_bvec_set(): BIO-BVEC-NO-RETENTION; ≤6.4
    /// BIO_NO_PAGE_REF); otherwise the cleanup flag is set (BIO-CLEANUP-FLAGS) and __bio_iov_iter_get_pages() runs
    /// until the iterator is empty, the bio is full or an extraction fails: return bio-&gt;bi_vcnt ? 0 : ret.
    /// </summary>
    protected virtual long BioIovIterGetPages(Bio bio, IovIter iter)
    {
        if (iter.Type == IterKind.Bvec)
        {
            BioIovBvecSet(bio, iter);
            return 0;
        }

        BioSetCleanupMode(bio, iter);
        long ret;
        do
        {
            ret = BioIovIterGetPagesOnce(bio, iter);
        }
        while (ret == 0 && iter.Count > 0 && !bio.Full);

        return bio.Vcnt > 0 ? 0 : ret;
    }

    /// <summary>
    /// bio_iov_bvec_set(): the bio points at the caller's bvecs; nothing is taken; the iterator is consumed. ≤ v6.4
    /// BIO_NO_PAGE_REF; after 5.7 BIO_CLONED (BIO-BVEC-CLONED: the bio does not own its bvecs).
    /// </summary>
    protected virtual void BioIovBvecSet(Bio bio, IovIter iter)
    {
        if (Profile.Bio == BioScheme.NoPageRef)
        {
            BioSetFlag(bio, BIO_NO_PAGE_REF);
        }

        if (Profile.BioBvecCloned)
        {
            BioSetFlag(bio, BIO_CLONED);
        }

        // bi_io_vec = iter->bvec, bi_bvec_done = iov_offset: the bio covers the rest of every bvec, page by page.
        var skip = iter.IovOffset;
        for (var k = iter.Cur; k < iter.Iov.Length; k++, skip = 0)
        {
            var addr = iter.Iov[k].Addr + (ulong)skip;
            var end = iter.Iov[k].Addr + (ulong)iter.Iov[k].Len;
            for (var p = addr & PAGE_MASK; p < end; p += (ulong)PAGE_SIZE)
            {
                bio.Pages.Add(VirtToPage(p));
            }
        }

        IovIterAdvance(iter, iter.Count);
    }

    /// <summary>
    /// BIO-CLEANUP-FLAGS for a non-BVEC iterator: ≤6.4 none (pages hold refs); v8 bio_set_cleanup_mode():
    /// mode &amp; FOLL_GET → BIO_PAGE_REFFED, mode &amp; FOLL_PIN → BIO_PAGE_PINNED; 6.5+
    /// if (iov_iter_extract_will_pin(iter)) bio_set_flag(bio, BIO_PAGE_PINNED).
    /// </summary>
    protected virtual void BioSetCleanupMode(Bio bio, IovIter iter)
    {
        switch (Profile.Bio)
        {
            case BioScheme.ReffedAndPinned:
                var mode = IovIterExtractMode(iter);
                if ((mode & FOLL_GET) != 0)
                {
                    BioSetFlag(bio, BIO_PAGE_REFFED);
                }

                if ((mode & FOLL_PIN) != 0)
                {
                    BioSetFlag(bio, BIO_PAGE_PINNED);
                }

                break;
            case BioScheme.PinnedOnly:
                if (IovIterExtractWillPin(iter))
                {
                    BioSetFlag(bio, BIO_PAGE_PINNED);
                }

                break;
            default:
                break;
        }
    }

    /// <summary>
    /// __bio_iov_iter_get_pages(): one extraction (one segment, nr_pages = bi_max_vecs - vcnt) — references
    /// (iov_iter_get_pages2, BIO-REFS-LEGACY) ≤6.4, iov_iter_extract_pages() pins otherwise (BIO-PINS) — then each
    /// page is added; BIO-SAME-PAGE-MERGE drops the duplicate ref/pin of a page that continues the last bvec.
    /// </summary>
    protected virtual long BioIovIterGetPagesOnce(Bio bio, IovIter iter)
    {
        var nrPages = bio.MaxVecs - bio.Vcnt;
        var pages = new PageArray();
        var size = Profile.Bio == BioScheme.NoPageRef
            ? IovIterGetPages2(iter, pages, uint.MaxValue, nrPages, out var offset)
            : IovIterExtractPages(iter, pages, uint.MaxValue, nrPages, out offset);
        if (size <= 0)
        {
            return size != 0 ? size : -Errno.EFAULT;
        }

        var extracted = (offset + size + PAGE_SIZE - 1) / PAGE_SIZE;
        if (Profile.BioBlockAlign == BioBlockAlign.PerExtraction)
        {
            // BIO-LOGICAL-BLOCK-TRIM (v6.0–v6.17): trim = size & (bdev_logical_block_size(bio->bi_bdev) - 1);
            // iov_iter_revert(iter, trim); size -= trim; if (!size) { ret = -EFAULT; goto out; }
            var trim = size & (bio.LogicalBlockSize - 1);
            BioTrimRevert(iter, trim);
            size -= trim;
            if (size == 0)
            {
                BioReleaseUnused(bio, pages, 0, extracted);
                return -Errno.EFAULT;
            }
        }

        var left = size;
        long j = 0;
        for (; left > 0; j++)
        {
            var page = pages[j];
            var len = Math.Min(PAGE_SIZE - offset, left);
            if (BioSamePage(bio, page, offset))
            {
                BioDropSamePageDuplicate(bio, page);
            }
            else
            {
                // page_is_mergeable(): the data continues the last bvec physically, so that bvec grows.
                if (!BioPhysicallyContinues(bio, page, offset))
                {
                    bio.Vcnt++;
                }

                bio.Pages.Add(page);
            }

            bio.LastPage = page;
            bio.LastEnd = offset + len;
            left -= len;
            offset = 0;
        }

        // out: while (i < nr_pages) put_page(pages[i++]) ≤ v6.4, bio_release_page(bio, pages[i++]) v6.5+.
        BioReleaseUnused(bio, pages, j, extracted);
        return 0;
    }

    /// <summary>iov_iter_revert(iter, trim): the trimmed bytes go back to the iterator (BIO-LOGICAL-BLOCK-TRIM).</summary>
    protected virtual void BioTrimRevert(IovIter iter, long trim) => IovIterRevert(iter, trim);

    /// <summary>The extracted pages [<paramref name="from"/>, <paramref name="to"/>) the bio did not take.</summary>
    protected virtual void BioReleaseUnused(Bio bio, PageArray pages, long from, long to)
    {
        for (var i = from; i < to; i++)
        {
            BioReleasePage(bio, pages[i]);
        }
    }

    /// <summary>
    /// page_is_mergeable()'s same_page: the new data starts exactly where the last bvec ended and inside the page
    /// that bvec ends in (vec_end_addr &amp; PAGE_MASK == page_addr).
    /// </summary>
    protected virtual bool BioSamePage(Bio bio, Page page, long offset) =>
        bio.LastPage is { } last && last == page && bio.LastEnd == offset;

    /// <summary>
    /// page_is_mergeable() / bvec_try_merge_page() for a new page: the last bvec ends at its page's end and the new data
    /// starts at offset 0 of the physically next page (the next page of the folio, or page 0 of the next folio of the
    /// same anonymous mapping, whose folios sit in order in physical memory).
    /// </summary>
    protected virtual bool BioPhysicallyContinues(Bio bio, Page page, long offset)
    {
        if (bio.LastPage is not { } last || bio.LastEnd != PAGE_SIZE || offset != 0 || last.Folio.IsZeroPfn || page.Folio.IsZeroPfn)
        {
            return false;
        }

        if (ReferenceEquals(last.Folio, page.Folio))
        {
            return page.Index == last.Index + 1;
        }

        var region = last.Folio.Region;
        return region is { Kind: RegionKind.Anon } && ReferenceEquals(region, page.Folio.Region)
            && page.Folio.Index == last.Folio.Index + 1 && last.Index == last.Folio.NrPages - 1 && page.Index == 0;
    }

    /// <summary>
    /// BIO-SAME-PAGE-MERGE: __bio_try_merge_page(..., &amp;same_page) merged the data into the last bvec, which already
    /// holds one ref/pin on this page, so the one just taken goes back at once (put_page() ≤6.4, bio_release_page()
    /// 6.5–6.8, unpin_user_folio(folio, 1) 6.12+). The page is not counted again.
    /// </summary>
    protected virtual void BioDropSamePageDuplicate(Bio bio, Page page) => BioReleasePage(bio, page);

    /// <summary>
    /// bio_release_page(): ≤6.4 put_page(); v8 page_put_unpin(page, bio_to_gup_flags(bio)); 6.5+
    /// if (bio_flagged(bio, BIO_PAGE_PINNED)) unpin_user_page(page).
    /// </summary>
    protected virtual void BioReleasePage(Bio bio, Page page)
    {
        switch (Profile.Bio)
        {
            case BioScheme.NoPageRef:
                PutPage(page);
                break;
            case BioScheme.ReffedAndPinned:
                PagePutUnpin(page, BioToGupFlags(bio));
                break;
            default:
                if (BioFlagged(bio, BIO_PAGE_PINNED))
                {
                    UnpinUserPage(page);
                }

                break;
        }
    }

    /// <summary>v8 bio_to_gup_flags(): BIO_PAGE_REFFED → FOLL_GET, BIO_PAGE_PINNED → FOLL_PIN (bits 1 and 0 in both words).</summary>
    protected long BioToGupFlags(Bio bio) =>
        (BioFlagged(bio, BIO_PAGE_REFFED) ? FOLL_GET : 0) | (BioFlagged(bio, BIO_PAGE_PINNED) ? FOLL_PIN : 0);

    /// <summary>v8 page_put_unpin() / folio_put_unpin(): if (flags &amp; (FOLL_GET | FOLL_PIN)) gup_put_folio(folio, 1, flags).</summary>
    protected void PagePutUnpin(Page page, long flags)
    {
        if ((flags & (FOLL_GET | FOLL_PIN)) != 0)
        {
            GupPutFolio(page.Folio, 1, flags);
        }
    }

    /// <summary>
    /// The bio_release_pages() gate: ≤6.4 return if BIO_NO_PAGE_REF; v8 BIO_PAGE_REFFED or BIO_PAGE_PINNED;
    /// 6.5+ BIO_PAGE_PINNED (BIO-BVEC-NO-RETENTION).
    /// </summary>
    protected virtual bool BioPagesHeld(Bio bio) => Profile.Bio switch
    {
        BioScheme.NoPageRef => !BioFlagged(bio, BIO_NO_PAGE_REF),
        BioScheme.ReffedAndPinned => BioFlagged(bio, BIO_PAGE_REFFED) || BioFlagged(bio, BIO_PAGE_PINNED),
        _ => BioFlagged(bio, BIO_PAGE_PINNED),
    };

    /// <summary>
    /// The mark_dirty rule: BIO-DIRTY-SKIPS-COMPOUND (≤6.5: if (mark_dirty &amp;&amp; !PageCompound(page))),
    /// BIO-DIRTY-COMPOUND (6.8+, 1b151e2435fc: every folio).
    /// </summary>
    protected virtual bool BioDirtiesFolio(Folio folio) => Profile.BioDirtiesCompound || folio.Order == 0;

    /// <summary>
    /// bio_release_pages(bio, mark_dirty). BIO-RELEASE-ONE-PER-PAGE: every page of every bvec is released once,
    /// after set_page_dirty_lock() / folio_mark_dirty() when mark_dirty allows it for that folio.
    /// </summary>
    protected virtual void BioReleasePages(Bio bio, bool markDirty)
    {
        if (!BioPagesHeld(bio))
        {
            return;
        }

        foreach (var span in bio.Pages.Spans)
        {
            for (long k = 0; k < span.Count; k++)
            {
                if (markDirty && BioDirtiesFolio(span.Folio))
                {
                    span.Folio.Dirty = true;
                }

                BioReleasePage(bio, new Page(span.Folio, span.First + k));
            }
        }
    }
}
