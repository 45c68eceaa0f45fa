using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>netfs_extract_user_iter() and netfs_free_request() (CONTRACT §8).</summary>
internal static class NetfsStep
{
    /// <summary>
    /// NETFS-REJECTS-KERNEL for non-user iterators (-EIO); else will_pin of the original iterator is recorded
    /// (NETFS-CLEANUP-ORIGINAL) and extraction after extraction pins one segment each (NETFS-PINS-USER) until the
    /// count or max_pages is reached; an extraction error stops the loop and keeps what was built
    /// (NETFS-PARTIAL-ON-ERROR), except in the stable fix, where an error before any bvec, or -ENOMEM, unpins
    /// everything and is the result (NETFS-FAIL-WHOLE-ON-ERROR). The result is the number of bvecs (= pinned entries).
    /// </summary>
    public static void Extract(StepContext ctx, NetfsExtract c)
    {
        var it = ctx.Iters[c.Iter];
        var rules = new List<string>();
        var pages = ImmutableList.CreateBuilder<EntryRun>();
        long result;
        if (!it.UserBacked)
        {
            rules.Add("NETFS-REJECTS-KERNEL");
            result = -Errno.EIO;
        }
        else
        {
            rules.Add("NETFS-PINS-USER");
            var count = Math.Min(c.MaxSize, it.Count);
            var maxPages = it.Segs.Where(s => s.Len > 0).Sum(s => Memory.PagesSpanned(s.Addr, s.Len));
            long npages = 0;
            long error = 0;
            while (count > 0 && npages < maxPages)
            {
                var ex = IovStep.ExtractPages(ctx, it, count, maxPages - npages, Hold.Pin, "NETFS-PINS-USER");
                rules.AddRange(ex.Rules);
                if (ex.Result <= 0)
                {
                    // How netfs reports a failed extraction decides the result: its convention is cited first.
                    rules.Insert(0, ctx.Profile.NetfsFailsWholeOnError ? "NETFS-FAIL-WHOLE-ON-ERROR" : "NETFS-PARTIAL-ON-ERROR");
                    error = ex.Result == 0 ? -Errno.EIO : ex.Result;
                    break;
                }

                it = ex.Iter;
                pages.AddRange(ex.Pages);
                count -= ex.Result;
                npages += PageRuns.Entries(ex.Pages.Select(r => new PageRun(r.Folio, r.First, r.Count)));
            }

            result = npages;
            if (ctx.Profile.NetfsFailsWholeOnError && error < 0 && (error == -Errno.ENOMEM || npages == 0))
            {
                // The stable tail: every page pinned so far is unpinned and the error is the result.
                foreach (var run in pages.ToImmutable())
                {
                    FolioOps.PutFolio(ctx, run.Folio, run.Count, asPin: true, run.Hold, rules, ["NETFS-FAIL-WHOLE-ON-ERROR"]);
                }

                ReleaseStep.NoteInverses(ctx, [], pages.ToImmutable(), rules);
                pages.Clear();
                result = error;
            }
        }

        ctx.SetIter(c.Iter, it);
        var runs = pages.ToImmutable();
        ctx.SetNetfs(c.Netfs, new NetfsState(c.Netfs, it.UserBacked, runs, Math.Max(result, 0)));
        ctx.UsedNetfs = ctx.UsedNetfs.Add(c.Netfs);
        ctx.Check("result", Errno.Describe(result), rules);
        ctx.Check("iter_count", StepContext.Num(it.Count), rules);
        ctx.Exercise(rules);
        ctx.Note($"netfs {StepContext.Num(c.Netfs)} extract → {Errno.Describe(result)}");
    }

    /// <summary>netfs_free_request(): unpin_user_page() per bvec if the recorded will_pin says so (NETFS-CLEANUP-ORIGINAL).</summary>
    public static void Free(StepContext ctx, NetfsFree c)
    {
        var n = ctx.Netfs[c.Netfs];
        var rules = new List<string> { "NETFS-CLEANUP-ORIGINAL" };
        if (n.WillPin)
        {
            foreach (var run in n.Pages)
            {
                FolioOps.PutFolio(ctx, run.Folio, run.Count, asPin: true, run.Hold, rules, ["NETFS-CLEANUP-ORIGINAL"]);
            }

            ReleaseStep.NoteInverses(ctx, [], n.Pages, rules);
        }

        ctx.RemoveNetfs(c.Netfs);
        ctx.Check("result", "0", rules);
        ctx.Exercise(rules);
        ctx.Note($"netfs {StepContext.Num(c.Netfs)} freed");
    }
}
