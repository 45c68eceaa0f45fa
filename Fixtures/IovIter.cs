using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>struct iov_iter: type, data_source, the segment array with the current segment (__iov) and iov_offset, count.</summary>
public sealed class IovIter
{
    public IovIter(IterKind type, bool dataSource, IReadOnlyList<IterSeg> segs)
    {
        Type = type;
        DataSource = dataSource;
        Iov = [.. segs];
        Count = segs.Sum(s => s.Len);
    }

    public IterKind Type { get; }

    /// <summary>ITER_SOURCE (true): data is read out of the buffer; ITER_DEST (false): written into it.</summary>
    public bool DataSource { get; }

    public IterSeg[] Iov { get; }

    /// <summary>Index of the current segment (iter-&gt;__iov - base).</summary>
    public int Cur { get; set; }

    public long IovOffset { get; set; }

    public long Count { get; set; }
}

/// <summary>
/// lib/iov_iter.c: iov_iter_extract_pages() dispatching per iterator type, iov_iter_advance(), the retention
/// queries iov_iter_extract_will_pin() (merged) / iov_iter_extract_mode() (RFC, v8), and the pre-6.5
/// reference-taking iov_iter_get_pages2() the legacy bio path uses.
/// </summary>
public partial class KernelStyleImplementation
{
    private Observation DoIterInit(IterInit c)
    {
        var iter = new IovIter(c.Kind, c.Dir == IterDir.Source, c.Segs);
        _iters[c.Iter] = iter;
        return new Observation { Result = 0, IterCount = iter.Count };
    }

    protected IovIter Iter(int id) => _iters.TryGetValue(id, out var i) ? i : throw new InvalidOperationException($"no iterator {id}");

    /// <summary>
    /// The IterExtract command: iov_iter_extract_pages(iter, &amp;pages (NULL), maxsize, maxpages, 0, &amp;offset0); with
    /// AllocFails the kvmalloc_array() of want_pages_array() fails (the AllocFailure facet's injected fault).
    /// </summary>
    private Observation DoIterExtract(IterExtract c)
    {
        var iter = Iter(c.Iter);
        var pages = new PageArray();
        PagesAllocFails = c.AllocFails;
        long ret;
        long offset0;
        try
        {
            ret = IovIterExtractPages(iter, pages, c.MaxSize, c.MaxPages, out offset0);
        }
        finally
        {
            PagesAllocFails = false;
        }

        RememberCall(c.Call, pages);
        return new Observation
        {
            Result = ret,
            Pages = ret > 0 ? pages.ToRuns() : [],
            Offset0 = ret > 0 ? offset0 : null,
            IterCount = iter.Count,
        };
    }

    /// <summary>
    /// IOV-RETENTION-QUERY: iov_iter_extract_will_pin() (v6.3+) or iov_iter_extract_mode() (RFC, v8) as the
    /// era's numeric FOLL_* value.
    /// </summary>
    private Observation DoIterRetention(IterRetention c)
    {
        var iter = Iter(c.Iter);
        return Profile.Iov switch
        {
            IovScheme.Merged => new Observation { WillPin = IovIterExtractWillPin(iter) },
            IovScheme.Rfc2022 or IovScheme.V8Pin => new Observation { ExtractMode = IovIterExtractMode(iter) },
            _ => throw new InvalidOperationException($"{Profile.Id} has no retention query"),
        };
    }

    /// <summary>user_backed_iter(): UBUF or IOVEC.</summary>
    protected static bool UserBackedIter(IovIter i) => i.Type is IterKind.Ubuf or IterKind.Iovec;

    /// <summary>iov_iter_extract_will_pin() (include/linux/uio.h, v6.3+): user_backed_iter(iter).</summary>
    protected virtual bool IovIterExtractWillPin(IovIter i) => UserBackedIter(i);

    /// <summary>
    /// iov_iter_extract_mode(). RFC (seed 2022-11): FOLL_GET for a user-backed source, FOLL_PIN for a user-backed
    /// destination, 0 otherwise. v8 (seed 2023-01): user_backed_iter(iter) ? FOLL_PIN : 0 — with FOLL_PIN = 0x1.
    /// </summary>
    protected virtual long IovIterExtractMode(IovIter i)
    {
        if (!UserBackedIter(i))
        {
            return 0;
        }

        return Profile.Iov == IovScheme.Rfc2022 && i.DataSource ? FOLL_GET : FOLL_PIN;
    }

    /// <summary>
    /// How a user-backed iterator's pages are retained by extraction. IOV-USER-PIN (v8, v6.3+: always pins);
    /// IOV-RFC-SOURCE-GET (RFC: get_user_pages_fast() refs for a source, pins for a destination).
    /// </summary>
    protected virtual HoldKind ExtractionRetention(IovIter i) =>
        (IovIterExtractMode(i) & FOLL_GET) != 0 && Profile.Iov == IovScheme.Rfc2022 ? HoldKind.Ref : HoldKind.Pin;

    /// <summary>
    /// iov_iter_extract_pages(). IOV-CLAMP-MAXSIZE: maxsize = min(maxsize, count, MAX_RW_COUNT), 0 → 0 with
    /// nothing touched; dispatch per type; IOV-UNSUPPORTED: DISCARD (and KVEC under the RFC) → -EFAULT.
    /// </summary>
    protected virtual long IovIterExtractPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        offset0 = 0;
        maxsize = Math.Min(Math.Min(maxsize, i.Count), MAX_RW_COUNT);
        if (maxsize <= 0)
        {
            return 0;
        }

        switch (i.Type)
        {
            case IterKind.Ubuf:
            case IterKind.Iovec:
                return IovIterExtractUserPages(i, pages, maxsize, maxpages, out offset0);
            case IterKind.Kvec when Profile.Iov != IovScheme.Rfc2022:
                return IovIterExtractKvecPages(i, pages, maxsize, maxpages, out offset0);
            case IterKind.Bvec when Profile.IovBvecMultiSegment:
                return IovIterExtractBvecPages(i, pages, maxsize, maxpages, out offset0);
            case IterKind.Bvec:
            case IterKind.Xarray:
                return IovIterExtractSingleKernelSegment(i, pages, maxsize, maxpages, out offset0);
            default:
                return -Errno.EFAULT;
        }
    }

    /// <summary>
    /// first_iovec_segment(): skips empty iovecs without moving the iterator and clamps maxsize to what is left of
    /// the first non-empty one (IOV-ONE-SEGMENT). UBUF: ubuf + iov_offset.
    /// </summary>
    protected static ulong FirstIovecSegment(IovIter i, ref long size)
    {
        var skip = i.IovOffset;
        for (var k = i.Cur; k < i.Iov.Length; k++, skip = 0)
        {
            var len = i.Iov[k].Len - skip;
            if (len == 0)
            {
                continue;
            }

            if (size > len)
            {
                size = len;
            }

            return i.Iov[k].Addr + (ulong)skip;
        }

        throw new InvalidOperationException("iterator with a count but no data");
    }

    /// <summary>Set while an extraction runs whose pages-array allocation is to fail (IterExtract.AllocFails).</summary>
    protected bool PagesAllocFails { get; private set; }

    /// <summary>
    /// want_pages_array(): DIV_ROUND_UP(size + offset, PAGE_SIZE) clamped to maxpages; 0 when *pages was NULL and
    /// kvmalloc_array() failed — every caller then returns -ENOMEM before it pins or lists anything (IOV-ALLOC-ENOMEM).
    /// </summary>
    protected virtual int WantPagesArray(long size, long offset, int maxpages) =>
        PagesAllocFails ? 0 : (int)Math.Min((size + offset + PAGE_SIZE - 1) / PAGE_SIZE, maxpages);

    /// <summary>
    /// iov_iter_extract_user_pages(). IOV-USER-PIN: pin_user_pages_fast(addr &amp; PAGE_MASK, maxpages,
    /// FOLL_WRITE for ITER_DEST); IOV-RFC-SOURCE-GET: the RFC's get_user_pages_fast(FOLL_GET) for a source.
    /// IOV-FAULT-NO-ADVANCE: res &lt;= 0 is returned as is. IOV-OFFSET0: min(maxsize, res * PAGE_SIZE - offset).
    /// </summary>
    protected virtual long IovIterExtractUserPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        var addr = FirstIovecSegment(i, ref maxsize);
        var offset = (long)(addr % (ulong)PAGE_SIZE);
        offset0 = offset;
        maxpages = WantPagesArray(maxsize, offset, maxpages);
        if (maxpages == 0)
        {
            return -Errno.ENOMEM;
        }

        var hold = ExtractionRetention(i);
        long res = hold == HoldKind.Pin
            ? PinUserPagesFast(addr & PAGE_MASK, maxpages, i.DataSource ? 0 : FOLL_WRITE, pages)
            : GetUserPagesFast(addr & PAGE_MASK, maxpages, FOLL_GET, pages);
        if (res <= 0)
        {
            return res;
        }

        maxsize = Math.Min(maxsize, res * PAGE_SIZE - offset);
        IovIterAdvance(i, maxsize);
        return maxsize;
    }

    /// <summary>
    /// iov_iter_extract_kvec_pages(). IOV-KERNEL-LISTED: the pages are only listed (virt_to_page), nothing taken.
    /// IOV-EMPTY-SEGMENT-BUG (6.3–6.5, v8): maxsize was clamped with the empty leading kvec's length, so the call
    /// returns 0; IOV-EMPTY-SEGMENT-SKIPPED (6.6+, f741bd7178c9): empty kvecs are skipped.
    /// </summary>
    protected virtual long IovIterExtractKvecPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        offset0 = 0;
        if (Profile.IovEmptyLeadingSegmentBug && i.Iov[i.Cur].Len - i.IovOffset == 0)
        {
            return 0;
        }

        var addr = FirstIovecSegment(i, ref maxsize);
        return ListKernelPages(i, pages, addr, maxsize, maxpages, out offset0);
    }

    /// <summary>iov_iter_extract_bvec_pages() (6.3–6.12: the current bvec only) and _xarray_pages(): listed, not retained.</summary>
    protected virtual long IovIterExtractSingleKernelSegment(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        var addr = FirstIovecSegment(i, ref maxsize);
        return ListKernelPages(i, pages, addr, maxsize, maxpages, out offset0);
    }

    /// <summary>
    /// iov_iter_extract_bvec_pages(), v6.13+ (IOV-BVEC-MULTI-SEGMENT): a bvec_iter (bi_size = maxsize, bi_bvec_done =
    /// iov_offset) is walked one single-page step at a time — bvec_iter_bvec() clips each step to the page, the bvec
    /// and bi_size. A later step with an in-page offset ends the walk before it is taken; a step that does not end at
    /// its page's end ends it after. maxpages comes from want_pages_array(maxsize, skip): skip is iov_offset.
    /// </summary>
    protected virtual long IovIterExtractBvecPages(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        offset0 = 0;
        var skip = i.IovOffset;
        if (i.Cur >= i.Iov.Length)
        {
            return 0;
        }

        if (skip == i.Iov[i.Cur].Len)
        {
            i.IovOffset = 0;
            i.Cur++;
            skip = 0;
        }

        var biIdx = i.Cur;
        var biSize = maxsize;
        var biBvecDone = skip;
        maxpages = WantPagesArray(maxsize, skip, maxpages);
        if (maxpages == 0)
        {
            return -Errno.ENOMEM;
        }

        long size = 0;
        var k = 0;
        while (biSize > 0 && biIdx < i.Iov.Length)
        {
            // bvec_iter_bvec(): the page holding bv_offset + bi_bvec_done, clipped to that page.
            var bv = i.Iov[biIdx];
            var at = bv.Addr + (ulong)biBvecDone;
            var bvOffset = (long)(at % (ulong)PAGE_SIZE);
            var bvLen = Math.Min(Math.Min(biSize, bv.Len - biBvecDone), PAGE_SIZE - bvOffset);
            if (k > 0)
            {
                if (bvOffset != 0)
                {
                    break;
                }
            }
            else
            {
                offset0 = bvOffset;
            }

            pages.Add(VirtToPage(at));
            k++;
            size += bvLen;
            if (k >= maxpages)
            {
                break;
            }

            if (bvOffset + bvLen != PAGE_SIZE)
            {
                break;
            }

            // bvec_iter_advance_single()
            biSize -= bvLen;
            biBvecDone += bvLen;
            if (biBvecDone == bv.Len)
            {
                biBvecDone = 0;
                biIdx++;
            }
        }

        IovIterAdvance(i, size);
        return size;
    }

    private long ListKernelPages(IovIter i, PageArray pages, ulong addr, long size, int maxpages, out long offset0)
    {
        var offset = (long)(addr % (ulong)PAGE_SIZE);
        offset0 = offset;
        var npages = WantPagesArray(size, offset, maxpages);
        if (npages == 0)
        {
            return -Errno.ENOMEM;
        }

        var first = addr & PAGE_MASK;
        for (long k = 0; k < npages; k++)
        {
            pages.Add(VirtToPage(first + ((ulong)k << Sizes.PageShift)));
        }

        size = Math.Min(size, npages * PAGE_SIZE - offset);
        IovIterAdvance(i, size);
        return size;
    }

    /// <summary>
    /// iov_iter_advance(). UBUF/XARRAY (one segment): iov_offset += size. IOVEC/KVEC (iov_iter_iovec_advance) and
    /// BVEC (iov_iter_bvec_advance): size += iov_offset, then whole segments with size &gt;= their length are stepped
    /// over — which also steps over empty segments right after the consumed data.
    /// </summary>
    protected static void IovIterAdvance(IovIter i, long size)
    {
        if (i.Count == 0)
        {
            return;
        }

        i.Count -= size;
        if (i.Type is IterKind.Iovec or IterKind.Kvec or IterKind.Bvec)
        {
            size += i.IovOffset;
            var k = i.Cur;
            while (k < i.Iov.Length && size >= i.Iov[k].Len)
            {
                size -= i.Iov[k].Len;
                k++;
            }

            i.Cur = k;
            i.IovOffset = size;
        }
        else
        {
            i.IovOffset += size;
        }
    }

    /// <summary>
    /// iov_iter_revert(): give back <paramref name="unroll"/> bytes just consumed. UBUF: iov_offset -= unroll. IOVEC,
    /// KVEC, BVEC: within the current segment if iov_offset covers it, else back through the earlier segments (empty
    /// ones included) until one holds the rest.
    /// </summary>
    protected static void IovIterRevert(IovIter i, long unroll)
    {
        if (unroll == 0)
        {
            return;
        }

        i.Count += unroll;
        if (unroll <= i.IovOffset)
        {
            i.IovOffset -= unroll;
            return;
        }

        unroll -= i.IovOffset;
        while (true)
        {
            var n = i.Iov[--i.Cur].Len;
            if (unroll <= n)
            {
                i.IovOffset = n - unroll;
                return;
            }

            unroll -= n;
        }
    }

    /// <summary>
    /// iov_iter_get_pages2() on a user-backed iterator (≤ v6.4 bios, BIO-REFS-LEGACY): the same single-segment
    /// arithmetic as extraction but references from get_user_pages_fast(FOLL_WRITE for ITER_DEST).
    /// </summary>
    protected virtual long IovIterGetPages2(IovIter i, PageArray pages, long maxsize, int maxpages, out long offset0)
    {
        offset0 = 0;
        maxsize = Math.Min(Math.Min(maxsize, i.Count), MAX_RW_COUNT);
        if (maxsize <= 0)
        {
            return 0;
        }

        var addr = FirstIovecSegment(i, ref maxsize);
        var offset = (long)(addr % (ulong)PAGE_SIZE);
        offset0 = offset;
        maxpages = WantPagesArray(maxsize, offset, maxpages);
        var res = GetUserPagesFast(addr & PAGE_MASK, maxpages, i.DataSource ? 0 : FOLL_WRITE, pages);
        if (res <= 0)
        {
            return res;
        }

        maxsize = Math.Min(maxsize, res * PAGE_SIZE - offset);
        IovIterAdvance(i, maxsize);
        return maxsize;
    }

    /// <summary>iov_iter_npages(i, INT_MAX) for a user-backed iterator: pages spanned by each remaining segment.</summary>
    protected static long IovIterNpages(IovIter i)
    {
        long npages = 0;
        var size = i.Count;
        var skip = i.IovOffset;
        for (var k = i.Cur; k < i.Iov.Length && size > 0; k++, skip = 0)
        {
            var len = Math.Min(i.Iov[k].Len - skip, size);
            if (len > 0)
            {
                var offs = (long)((i.Iov[k].Addr + (ulong)skip) % (ulong)PAGE_SIZE);
                size -= len;
                npages += (offs + len + PAGE_SIZE - 1) / PAGE_SIZE;
            }
        }

        return Math.Min(npages, int.MaxValue);
    }
}
