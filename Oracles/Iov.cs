using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>One iov_iter_extract_pages() call: bytes (or -errno), the entries, *offset0, and the advanced iterator.</summary>
internal sealed record Extracted(long Result, ImmutableList<EntryRun> Pages, long? Offset0, List<string> Rules, IterState Iter);

/// <summary>iov_iter construction, iov_iter_extract_pages() (CONTRACT §5) and the retention query.</summary>
internal static class IovStep
{
    /// <summary>The iterator's count is the sum of its segment lengths (the base of IOV-CLAMP-MAXSIZE).</summary>
    public static void Init(StepContext ctx, IterInit c)
    {
        var it = new IterState(c.Iter, c.Kind, c.Dir, c.Segs.Sum(s => s.Len), [.. c.Segs]);
        ctx.SetIter(c.Iter, it);
        List<string> rules = ["IOV-CLAMP-MAXSIZE", "BIO-CLEANUP-FLAGS", "NETFS-PINS-USER"];
        ctx.Check("result", "0", rules);
        ctx.Check("iter_count", StepContext.Num(it.Count), rules);
        ctx.Note($"iter {StepContext.Num(c.Iter)} {c.Kind} {c.Dir} count {StepContext.Num(it.Count)}");
    }

    /// <summary>How this era's iov_iter_extract_pages() retains user pages: the RFC takes refs for a source (IOV-RFC-SOURCE-GET).</summary>
    public static (Hold Hold, string Rule) UserRetention(Profile p, IterDir dir) =>
        p.Iov == IovScheme.Rfc2022 && dir == IterDir.Source ? (Hold.Ref, "IOV-RFC-SOURCE-GET") : (Hold.Pin, "IOV-USER-PIN");

    public static void Extract(StepContext ctx, IterExtract c)
    {
        var it = ctx.Iters[c.Iter];
        var (hold, rule) = UserRetention(ctx.Profile, it.Dir);
        var ex = ExtractPages(ctx, it, c.MaxSize, c.MaxPages, hold, rule, c.AllocFails);
        ctx.SetIter(c.Iter, ex.Iter);
        ctx.SetArray(c.Call, ArrayState.Of(ex.Pages));
        ctx.Check("result", Errno.Describe(ex.Result), ex.Rules);
        ctx.Check("pages", Memory.Render(ex.Pages), ex.Rules);
        if (ex.Offset0 is { } o)
        {
            ctx.Check("offset0", StepContext.Num(o), ex.Rules);
        }
        else
        {
            // No bytes, no *offset0: the kernel returns before it writes it (CONTRACT.md §5, IOV-CLAMP-MAXSIZE).
            ctx.CheckAbsent("offset0", ex.Rules);
        }

        ctx.Check("iter_count", StepContext.Num(ex.Iter.Count), ex.Rules);
        ctx.Exercise(ex.Rules);
        ctx.Note($"extract iter {StepContext.Num(c.Iter)} → {Errno.Describe(ex.Result)}, count {StepContext.Num(it.Count)}→{StepContext.Num(ex.Iter.Count)} (array {StepContext.Num(c.Call)})");
    }

    /// <summary>
    /// iov_iter_extract_pages(): clamp maxsize (IOV-CLAMP-MAXSIZE); DISCARD and the RFC's KVEC are -EFAULT
    /// (IOV-UNSUPPORTED); one segment only (IOV-ONE-SEGMENT), with the v6.3–v6.5 empty-leading-KVEC bug
    /// (IOV-EMPTY-SEGMENT-BUG, IOV-EMPTY-SEGMENT-SKIPPED after the fix); user pages grabbed as
    /// pin_user_pages_fast() would, with <paramref name="userHold"/> (IOV-USER-PIN, IOV-RFC-SOURCE-GET, and BIO-* /
    /// NETFS-* callers), a failure returned without advancing (IOV-FAULT-NO-ADVANCE); kernel pages only listed
    /// (IOV-KERNEL-LISTED); offset0 and the byte count (IOV-OFFSET0).
    /// </summary>
    public static Extracted ExtractPages(StepContext ctx, IterState it, long maxSize, long maxPages, Hold userHold, string userRule, bool allocFails = false)
    {
        var p = ctx.Profile;
        var rules = new List<string>();
        var maxsize = Math.Min(Math.Min(maxSize, it.Count), Sizes.MaxRwCount);
        if (maxsize != maxSize)
        {
            rules.Add("IOV-CLAMP-MAXSIZE");
        }

        if (maxsize <= 0)
        {
            return new Extracted(0, [], null, ["IOV-CLAMP-MAXSIZE"], it);
        }

        if (it.Kind == IterKind.Discard || (it.Kind == IterKind.Kvec && p.Iov == IovScheme.Rfc2022))
        {
            return new Extracted(-Errno.EFAULT, [], null, ["IOV-UNSUPPORTED"], it);
        }

        if (it.Kind == IterKind.Bvec && p.IovBvecMultiSegment)
        {
            return allocFails ? NoMem(it, rules) : ExtractBvecs(ctx, it, maxsize, maxPages, rules);
        }

        var segs = it.Segs;
        if (it.Kind == IterKind.Kvec && p.IovEmptyLeadingSegmentBug && (segs.Count == 0 || segs[0].Len == 0))
        {
            // Pre-f741bd7178c9: maxsize = min(maxsize, 0) while skipping, so every segment is skipped and 0 returned.
            return new Extracted(0, [], null, ["IOV-EMPTY-SEGMENT-BUG"], it with { Segs = [] });
        }

        var si = 0;
        while (si < segs.Count && segs[si].Len == 0)
        {
            si++;
        }

        if (si == segs.Count)
        {
            return new Extracted(0, [], null, ["IOV-ONE-SEGMENT"], it);
        }

        if (si > 0)
        {
            rules.Add(it.Kind == IterKind.Kvec ? "IOV-EMPTY-SEGMENT-SKIPPED" : "IOV-ONE-SEGMENT");
        }

        if (allocFails)
        {
            var at = segs[si];
            DecideUntouched(ctx, at.Addr, Math.Min(Math.Min(maxsize, at.Len), (maxPages * Sizes.PageSize) - (long)(at.Addr % (ulong)Sizes.PageSize)));
            return NoMem(it, rules);
        }

        var seg = segs[si];
        var size = Math.Min(maxsize, seg.Len);
        if (seg.Len < maxsize)
        {
            rules.Add("IOV-ONE-SEGMENT");
        }

        var offset0 = (long)(seg.Addr % (ulong)Sizes.PageSize);
        var npages = Math.Min((size + offset0 + Sizes.PageSize - 1) / Sizes.PageSize, maxPages);
        var first = seg.Addr & ~(ulong)(Sizes.PageSize - 1);
        ImmutableList<EntryRun> pages;
        long result;
        if (it.UserBacked)
        {
            var entry = userHold == Hold.Pin ? EntryPoint.PinUserPagesFast : EntryPoint.GetUserPagesFast;
            // Bios and netfs extract through here too: what they hold rests on their own rule and on the extraction's.
            List<string> cause = [userRule];
            if (userRule != "IOV-USER-PIN" && userHold == Hold.Pin && p.Iov is IovScheme.Merged or IovScheme.V8Pin)
            {
                cause.Add("IOV-USER-PIN");
            }

            var call = GupCore.Call(ctx, entry, first, npages, it.Dir == IterDir.Dest ? Foll.Write : Foll.None, withPages: true, cause: cause);
            rules.Add(userRule);
            rules.AddRange(call.Exercised);
            if (call.Result <= 0)
            {
                rules.AddRange(call.ResultRules);
                rules.Add("IOV-FAULT-NO-ADVANCE");
                return new Extracted(call.Result, [], null, rules, it);
            }

            pages = call.Entries;
            result = Math.Min(size, (call.Result * Sizes.PageSize) - offset0);
        }
        else
        {
            pages = ListPages(ctx, first, npages, "IOV-KERNEL-LISTED");
            rules.Add("IOV-KERNEL-LISTED");
            result = Math.Min(size, (npages * Sizes.PageSize) - offset0);
        }

        rules.Add("IOV-OFFSET0");
        return new Extracted(result, pages, offset0, rules, it.Advance(SkippedBytes(segs, si) + result));
    }

    /// <summary>
    /// IOV-ALLOC-ENOMEM: want_pages_array() could not allocate the pages array (*pages was NULL): -ENOMEM before anything
    /// is pinned, referenced or listed, and the iterator is not advanced. Every extraction path allocates once it has found
    /// its segment; only the returns before that (maxsize 0, DISCARD and the RFC's KVEC, an all-empty KVEC in v6.3–v6.5)
    /// answer without it.
    /// </summary>
    /// <summary>
    /// The pages an extraction of <paramref name="size"/> bytes at <paramref name="addr"/> would have reached keep their
    /// counts because of IOV-ALLOC-ENOMEM (so a later inspection that finds them changed cites it), and so does
    /// nr_foll_pin_acquired.
    /// </summary>
    private static void DecideUntouched(StepContext ctx, ulong addr, long size)
    {
        var end = addr + (ulong)Math.Max(size, 1);
        for (var page = addr & ~(ulong)(Sizes.PageSize - 1); page < end; page += (ulong)Sizes.PageSize)
        {
            if (ctx.RegionAt(page) is { Kind: RegionKind.Anon or RegionKind.File or RegionKind.Zero } r)
            {
                var h = Memory.PageOf(r, (long)((page - r.Start) / (ulong)Sizes.PageSize));
                var f = ctx.Folio(h.Folio);
                ctx.Put(f with { RefProv = f.RefProv.Decide(["IOV-ALLOC-ENOMEM"]), PinProv = f.PinProv.Decide(["IOV-ALLOC-ENOMEM"]) });
            }
        }

        ctx.AcquiredProv = ctx.AcquiredProv.Decide(["IOV-ALLOC-ENOMEM"]);
    }

    private static Extracted NoMem(IterState it, List<string> rules)
    {
        rules.Add("IOV-ALLOC-ENOMEM");
        return new Extracted(-Errno.ENOMEM, [], null, rules, it);
    }

    private static long SkippedBytes(ImmutableList<IterSeg> segs, int count) => segs.Take(count).Sum(s => s.Len);

    /// <summary>
    /// IOV-BVEC-MULTI-SEGMENT, v6.13+ iov_iter_extract_bvec_pages(): a bvec_iter walks the bvecs one page step at a
    /// time (a step is the rest of the current page, of the bvec and of maxsize, whichever is least). The first step
    /// sets offset0; a later step that does not start at offset 0 ends the walk before it is taken; the walk also ends
    /// after a step that does not reach its page's end, when the pages array is full, or when maxsize is used up. The
    /// array holds DIV_ROUND_UP(maxsize + iov_offset, PAGE_SIZE) entries at most (want_pages_array() is given the
    /// offset into the bvec, not into the page), clamped to maxpages. Pages are only listed (IOV-KERNEL-LISTED).
    /// </summary>
    private static Extracted ExtractBvecs(StepContext ctx, IterState it, long maxsize, long maxPages, List<string> rules)
    {
        var count = Math.Min((maxsize + it.Skip + Sizes.PageSize - 1) / Sizes.PageSize, maxPages);
        var runs = ImmutableList.CreateBuilder<EntryRun>();
        long size = 0;
        long k = 0;
        long? offset0 = null;
        var left = maxsize;
        var idx = 0;
        long done = 0;
        var crossed = false;
        while (left > 0 && idx < it.Segs.Count)
        {
            var seg = it.Segs[idx];
            var addr = seg.Addr + (ulong)done;
            var off = (long)(addr % (ulong)Sizes.PageSize);
            var len = Math.Min(Math.Min(left, seg.Len - done), Sizes.PageSize - off);
            if (k > 0 && off != 0)
            {
                break;
            }

            offset0 ??= off;
            var r = ctx.RegionAt(addr) ?? throw new InvalidOperationException($"bvec page 0x{addr:x} outside every region");
            var h = Memory.PageOf(r, (long)((addr - r.Start) / (ulong)Sizes.PageSize));
            Memory.Append(runs, h.Folio, h.Index, 1, Hold.None);
            var f = ctx.Folio(h.Folio);
            ctx.Put(f with { RefProv = f.RefProv.Decide(["IOV-KERNEL-LISTED"]) });
            crossed |= idx > 0;
            size += len;
            k++;
            if (k >= count || off + len != Sizes.PageSize)
            {
                break;
            }

            left -= len;
            done += len;
            if (done == seg.Len)
            {
                idx++;
                done = 0;
            }
        }

        // Where the v6.13+ walk stops (on into the next bvec, or at a partial page) decides how much was extracted:
        // it is cited first.
        rules.Insert(0, "IOV-BVEC-MULTI-SEGMENT");
        rules.Add("IOV-KERNEL-LISTED");
        rules.Add("IOV-OFFSET0");

        if (crossed)
        {
            ctx.Note("extraction walked on into the next bvec");
        }

        return new Extracted(size, runs.ToImmutable(), offset0, rules, it.Advance(size));
    }

    /// <summary>Kernel-backed pages are only listed (held as None): per folio chunk, never per page of a large folio.</summary>
    public static ImmutableList<EntryRun> ListPages(StepContext ctx, ulong first, long npages, string rule)
    {
        var runs = ImmutableList.CreateBuilder<EntryRun>();
        long done = 0;
        while (done < npages)
        {
            var addr = first + ((ulong)done * (ulong)Sizes.PageSize);
            var r = ctx.RegionAt(addr) ?? throw new InvalidOperationException($"kernel page 0x{addr:x} outside every region");
            var page = (long)((addr - r.Start) / (ulong)Sizes.PageSize);
            var h = Memory.PageOf(r, page);
            var n = r.Kind == RegionKind.Anon ? Math.Min(npages - done, r.FolioPages - h.Index) : 1;
            Memory.Append(runs, h.Folio, h.Index, n, Hold.None);

            // Listing is a decision that the refcount stays as it is: a listed page that gains a reference names the
            // rule that says kernel pages are not retained (IOV-KERNEL-LISTED, BIO-BVEC-NO-RETENTION).
            var f = ctx.Folio(h.Folio);
            ctx.Put(f with { RefProv = f.RefProv.Decide([rule]) });
            done += n;
        }

        return runs.ToImmutable();
    }

    /// <summary>
    /// IOV-RETENTION-QUERY: iov_iter_extract_will_pin() = user-backed (merged); the RFC's iov_iter_extract_mode() is
    /// FOLL_GET for a user source, FOLL_PIN for a user destination, 0 otherwise; v8's is FOLL_PIN for any user-backed
    /// iterator — in the era's FOLL_* numbering.
    /// </summary>
    public static void Retention(StepContext ctx, IterRetention c)
    {
        var p = ctx.Profile;
        var it = ctx.Iters[c.Iter];
        List<string> rules = ["IOV-RETENTION-QUERY"];
        if (p.Iov == IovScheme.Merged)
        {
            ctx.Check("will_pin", StepContext.Bool(it.UserBacked), rules);
        }
        else
        {
            var mode = !it.UserBacked ? Foll.None
                : p.Iov == IovScheme.Rfc2022 && it.Dir == IterDir.Source ? Foll.Get : Foll.Pin;
            var value = mode == Foll.None ? 0 : p.Flags.ValueOf(mode);
            ctx.Check("extract_mode", "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture), rules);
        }

        ctx.Exercise(rules);
    }
}
