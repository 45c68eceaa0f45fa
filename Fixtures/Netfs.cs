using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>A netfs I/O request: the BVEC array built from the user iterator and the recorded cleanup answer.</summary>
public sealed class NetfsRequest
{
    /// <summary>rreq-&gt;direct_bv_unpin (cifs: ctx-&gt;bv_need_unpin).</summary>
    public bool DirectBvUnpin { get; set; }

    /// <summary>The bv_page of every bvec, in order.</summary>
    public PageArray Bvecs { get; } = new();
}

/// <summary>
/// fs/netfs/iterator.c netfs_extract_user_iter() and the direct-I/O caller around it: the caller records
/// iov_iter_extract_will_pin() of the ORIGINAL iterator before replacing it with the BVEC copy, and
/// netfs_free_request() unpins every bvec page if that answer says so.
/// </summary>
public partial class KernelStyleImplementation
{
    private Observation DoNetfsExtract(NetfsExtract c)
    {
        var orig = Iter(c.Iter);
        var rreq = new NetfsRequest();
        _netfs[c.Netfs] = rreq;
        var ret = NetfsExtractUserIter(orig, c.MaxSize, rreq, out var bvecIter);
        rreq.DirectBvUnpin = NetfsDirectBvUnpin(orig, bvecIter);
        return new Observation { Result = ret, IterCount = orig.Count };
    }

    /// <summary>
    /// NETFS-CLEANUP-ORIGINAL: rreq-&gt;direct_bv_unpin = iov_iter_extract_will_pin(&lt;original iterator&gt;). The
    /// BVEC copy would answer "no pin" and every pin would leak. The original's type never changes, so asking it
    /// after the extraction gives the answer the caller recorded before.
    /// </summary>
    protected virtual bool NetfsDirectBvUnpin(IovIter orig, IovIter? bvecCopy) => IovIterExtractWillPin(orig);

    /// <summary>
    /// netfs_extract_user_iter(orig, orig_len, new, 0). NETFS-REJECTS-KERNEL: WARN_ON_ONCE(!ubuf &amp;&amp; !iovec) →
    /// -EIO. NETFS-PINS-USER: extraction after extraction (one segment each, pins) into bvecs until count is 0 or
    /// max_pages = iov_iter_npages(orig, INT_MAX) is reached; NETFS-PARTIAL-ON-ERROR: an extraction error stops
    /// the loop and the bvecs built so far are returned. Result = number of bvecs.
    /// </summary>
    protected virtual long NetfsExtractUserIter(IovIter orig, long origLen, NetfsRequest rreq, out IovIter? newIter)
    {
        newIter = null;
        if (!UserBackedIter(orig))
        {
            return -Errno.EIO;
        }

        var count = Math.Min(origLen, orig.Count);
        var maxPages = IovIterNpages(orig);
        long npages = 0;
        long ret = 0;
        var segs = new List<IterSeg>();
        while (count > 0 && npages < maxPages)
        {
            var pages = new PageArray();
            ret = IovIterExtractPages(orig, pages, count, (int)(maxPages - npages), out var offset);
            if (Profile.NetfsFailsWholeOnError && ret <= 0)
            {
                // Stable fix (6.12.118, 6.6.141): ret = ret ?: -EIO; break.
                ret = ret != 0 ? ret : -Errno.EIO;
                break;
            }

            if (ret <= 0 || ret > count)
            {
                // "Couldn't get user pages (rc=%zd)": stop, keep what was built.
                break;
            }

            count -= ret;
            var curNpages = (ret + offset + PAGE_SIZE - 1) / PAGE_SIZE;
            if (npages + curNpages > maxPages)
            {
                break;
            }

            rreq.Bvecs.AddRange(pages, 0, curNpages);
            npages += curNpages;
            segs.Add(new IterSeg(0, ret));
        }

        // NETFS-FAIL-WHOLE-ON-ERROR, stable fix: if (ret < 0 && (ret == -ENOMEM || npages == 0)) unpin each bvec page, return ret.
        if (Profile.NetfsFailsWholeOnError && ret < 0 && (ret == -Errno.ENOMEM || npages == 0))
        {
            foreach (var span in rreq.Bvecs.Spans)
            {
                for (long k = 0; k < span.Count; k++)
                {
                    UnpinUserPage(new Page(span.Folio, span.First + k));
                }
            }

            rreq.Bvecs.Clear();
            return ret;
        }

        // iov_iter_bvec(new, orig->data_source, bv, npages, orig_len - count): a kernel-backed copy.
        newIter = new IovIter(IterKind.Bvec, orig.DataSource, segs);
        return npages;
    }

    /// <summary>netfs_free_request(): if (rreq-&gt;direct_bv_unpin) unpin_user_page() per bvec (NETFS-CLEANUP-ORIGINAL).</summary>
    private Observation DoNetfsFree(NetfsFree c)
    {
        if (_netfs.Remove(c.Netfs, out var rreq) && rreq.DirectBvUnpin)
        {
            foreach (var span in rreq.Bvecs.Spans)
            {
                for (long k = 0; k < span.Count; k++)
                {
                    UnpinUserPage(new Page(span.Folio, span.First + k));
                }
            }
        }

        return Done();
    }
}
