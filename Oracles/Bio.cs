using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>Bios built from iterators (CONTRACT §6): cleanup flags, retention, same-page merges, release and dirtying.</summary>
internal static class BioStep
{
    public const string NoPageRef = "BIO_NO_PAGE_REF";
    public const string PagePinned = "BIO_PAGE_PINNED";
    public const string PageReffed = "BIO_PAGE_REFFED";

    /// <summary>
    /// BIO-CLEANUP-FLAGS: ≤ v6.4 BIO_NO_PAGE_REF for a BVEC iterator; v8 bio_set_cleanup_mode() and v6.5+
    /// BIO_PAGE_PINNED for a user-backed one (the v8 FOLL_GET → BIO_PAGE_REFFED branch is unreachable: v8 pins).
    /// </summary>
    public static ImmutableList<string> CleanupFlags(Profile p, IterState it) => p.Bio switch
    {
        BioScheme.NoPageRef => it.Kind == IterKind.Bvec ? [NoPageRef] : [],
        _ => it.UserBacked ? [PagePinned] : [],
    };

    /// <summary>Whether bio_release_pages() releases anything for a bio with these flags.</summary>
    private static bool HoldsPages(Profile p, ImmutableList<string> flags) => p.Bio == BioScheme.NoPageRef
        ? !flags.Contains(NoPageRef)
        : flags.Contains(PagePinned) || flags.Contains(PageReffed);

    /// <summary>
    /// bio_iov_iter_get_pages(): a BVEC iterator is taken as is (BIO-BVEC-NO-RETENTION); a user-backed one is
    /// extracted segment by segment with refs (BIO-REFS-LEGACY) or pins (BIO-PINS) until it is empty, the bio's
    /// MaxVecs bvecs are used, or an extraction fails; a page continuing the bio's last page is given back at once
    /// (BIO-SAME-PAGE-MERGE) and a page physically following it extends the last bvec (BIO-MULTIPAGE-BVEC).
    /// </summary>
    public static void Add(StepContext ctx, BioAdd c)
    {
        var p = ctx.Profile;
        var it = ctx.Iters[c.Iter];
        var flags = CleanupFlags(p, it);
        var rules = new List<string> { "BIO-CLEANUP-FLAGS" };
        var pages = ImmutableList.CreateBuilder<EntryRun>();
        long pageCount = 0;
        EntryRun? last = null;
        long lastEnd = 0;
        long result = 0;
        if (it.Kind == IterKind.Bvec)
        {
            foreach (var seg in it.Segs.Where(s => s.Len > 0))
            {
                var n = Memory.PagesSpanned(seg.Addr, seg.Len);
                pages.AddRange(IovStep.ListPages(ctx, seg.Addr & ~(ulong)(Sizes.PageSize - 1), n, "BIO-BVEC-NO-RETENTION"));
                pageCount += n;
            }

            it = it.Advance(it.Count);
            rules.Add("BIO-BVEC-NO-RETENTION");
        }
        else
        {
            var (hold, rule) = p.Bio == BioScheme.NoPageRef ? (Hold.Ref, "BIO-REFS-LEGACY") : (Hold.Pin, "BIO-PINS");

            // bio_iov_iter_get_pages() is a do/while: the first extraction runs even on an empty iterator, and an
            // extraction of nothing is -EFAULT (__bio_iov_iter_get_pages: "return size ? size : -EFAULT").
            if (it.Count == 0)
            {
                result = -Errno.EFAULT;
            }

            // The bio's capacity is bi_max_vecs bvecs, and each extraction asks for bi_max_vecs - bi_vcnt pages: data
            // continuing physically contiguous with the last bvec extends it (BIO-MULTIPAGE-BVEC, BIO-SAME-PAGE-MERGE).
            long bvecs = 0;
            while (it.Count > 0 && bvecs < c.MaxVecs)
            {
                var ex = IovStep.ExtractPages(ctx, it, it.Count, c.MaxVecs - bvecs, hold, rule);
                if (ex.Result <= 0 && ex.Rules.Contains("OVF-SIGN-CHECK"))
                {
                    // The overflow check refused the grab: that decided how far the bio got, so it is cited first.
                    rules.Insert(0, "OVF-SIGN-CHECK");
                }

                rules.AddRange(ex.Rules.Where(r => !rules.Contains(r)));
                if (ex.Result <= 0)
                {
                    // The caller sees the error only while the bio is still empty ("return bio->bi_vcnt ? 0 : ret").
                    result = pageCount != 0 ? 0 : ex.Result < 0 ? ex.Result : -Errno.EFAULT;
                    break;
                }

                it = ex.Iter;
                var offset = ex.Offset0!.Value;
                var left = ex.Result;
                foreach (var run in ex.Pages)
                {
                    for (var k = 0L; k < run.Count && left > 0; k++)
                    {
                        var page = run with { First = run.First + k, Count = 1 };
                        var len = Math.Min(Sizes.PageSize - offset, left);
                        if (last is { } l && l.Folio == page.Folio && l.First == page.First && lastEnd == offset && lastEnd < Sizes.PageSize)
                        {
                            // __bio_release_pages() drops one ref/pin per page per bvec: the duplicate goes back now.
                            FolioOps.PutFolio(ctx, page.Folio, 1, hold == Hold.Pin, hold, rules, ["BIO-SAME-PAGE-MERGE"]);
                            rules.Add("BIO-SAME-PAGE-MERGE");
                        }
                        else
                        {
                            if (last is { } p2 && lastEnd == Sizes.PageSize && offset == 0 && Memory.PhysicallyFollows(ctx, p2, page))
                            {
                                rules.Add("BIO-MULTIPAGE-BVEC");
                            }
                            else
                            {
                                bvecs++;
                            }

                            Memory.Append(pages, page.Folio, page.First, 1, page.Hold);
                            pageCount++;
                        }

                        last = page;
                        lastEnd = offset + len;
                        left -= len;
                        offset = 0;
                    }
                }
            }
        }

        ctx.Iters = ctx.Iters.SetItem(c.Iter, it);
        ctx.Bios = ctx.Bios.SetItem(c.Bio, new BioState(c.Bio, flags, pages.ToImmutable(), pageCount, last, lastEnd));
        ctx.UsedBios = ctx.UsedBios.Add(c.Bio);
        // The cleanup flags decide nothing about how much was taken: the counts cite them last.
        List<string> counted = [.. rules.Where(r => r != "BIO-CLEANUP-FLAGS"), "BIO-CLEANUP-FLAGS"];
        ctx.Check("result", Errno.Describe(result), counted);
        ctx.Check("bio_flags", InspectStep.BioFlagsText(flags), ["BIO-CLEANUP-FLAGS"]);
        ctx.Check("bio_pages", StepContext.Num(pageCount), counted);
        ctx.Check("iter_count", StepContext.Num(it.Count), counted);
        ctx.Exercise(rules);
        ctx.Note($"bio {StepContext.Num(c.Bio)} built: {StepContext.Num(pageCount)} pages, flags {InspectStep.BioFlagsText(flags)}");
    }

    /// <summary>
    /// bio_release_pages(bio, mark_dirty): if the flags say pages are held, each page is dirtied when asked —
    /// order-0 only before v6.8 (BIO-DIRTY-SKIPS-COMPOUND), every folio after (BIO-DIRTY-COMPOUND) — and released
    /// exactly once (BIO-RELEASE-ONE-PER-PAGE); a bio over a kernel iterator releases nothing (BIO-BVEC-NO-RETENTION).
    /// </summary>
    public static void Release(StepContext ctx, BioRelease c)
    {
        var p = ctx.Profile;
        var b = ctx.Bios[c.Bio];
        var rules = new List<string>();
        if (HoldsPages(p, b.Flags))
        {
            rules.Add("BIO-RELEASE-ONE-PER-PAGE");
            foreach (var run in b.Pages)
            {
                if (c.MarkDirty)
                {
                    Dirty(ctx, run.Folio, rules);
                }

                FolioOps.PutFolio(ctx, run.Folio, run.Count, run.Hold == Hold.Pin, run.Hold, rules, ["BIO-RELEASE-ONE-PER-PAGE"]);
            }

            ReleaseStep.NoteInverses(ctx, [], b.Pages, rules);
        }
        else
        {
            rules.Add("BIO-BVEC-NO-RETENTION");
        }

        ctx.Bios = ctx.Bios.Remove(c.Bio);
        ctx.Check("result", "0", rules);
        ctx.Exercise(rules);
        ctx.Note($"bio {StepContext.Num(c.Bio)} released");
    }

    private static void Dirty(StepContext ctx, string key, List<string> rules)
    {
        var p = ctx.Profile;
        var f = ctx.Folio(key);
        if (f.IsZero)
        {
            return;
        }

        if (p.BioDirtiesCompound)
        {
            FolioOps.MarkDirty(ctx, key, "BIO-DIRTY-COMPOUND");
            rules.Add("BIO-DIRTY-COMPOUND");
        }
        else if (f.Order == 0)
        {
            FolioOps.MarkDirty(ctx, key, "BIO-DIRTY-SKIPS-COMPOUND");
            rules.Add("BIO-DIRTY-SKIPS-COMPOUND");
        }
        else
        {
            // if (mark_dirty && !PageCompound(page)): the compound page keeps its dirty flag as it was.
            ctx.Put(f with { DirtyProv = f.DirtyProv.Decide(["BIO-DIRTY-SKIPS-COMPOUND"]) });
            rules.Add("BIO-DIRTY-SKIPS-COMPOUND");
        }
    }
}
