using System.Collections.Immutable;
using System.Globalization;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>Bios built from iterators (CONTRACT §6): cleanup flags, retention, same-page merges, release and dirtying.</summary>
internal static class BioStep
{
    public const string NoPageRef = BioFlagLayout.NoPageRef;
    public const string PagePinned = BioFlagLayout.PagePinned;
    public const string PageReffed = BioFlagLayout.PageReffed;
    public const string Cloned = BioFlagLayout.Cloned;

    /// <summary>
    /// BIO-CLEANUP-FLAGS: ≤ v6.4 BIO_NO_PAGE_REF for a BVEC iterator; v8 bio_set_cleanup_mode() and v6.5+
    /// BIO_PAGE_PINNED for a user-backed one (the v8 FOLL_GET → BIO_PAGE_REFFED branch is unreachable: v8 pins).
    /// BIO-BVEC-CLONED: bio_iov_bvec_set() (after 5.7) also sets BIO_CLONED on a BVEC bio.
    /// </summary>
    public static ImmutableList<string> CleanupFlags(Profile p, IterState it)
    {
        ImmutableList<string> flags = p.Bio switch
        {
            BioScheme.NoPageRef => it.Kind == IterKind.Bvec ? [NoPageRef] : [],
            _ => it.UserBacked ? [PagePinned] : [],
        };
        return it.Kind == IterKind.Bvec && p.BioBvecCloned ? flags.Add(Cloned) : flags;
    }

    /// <summary>Whether bio_release_pages() releases anything for a bio with these flags.</summary>
    private static bool HoldsPages(Profile p, ImmutableList<string> flags) => p.Bio == BioScheme.NoPageRef
        ? !flags.Contains(NoPageRef)
        : flags.Contains(PagePinned) || flags.Contains(PageReffed);

    /// <summary>
    /// bio_iov_iter_get_pages(): a BVEC iterator is taken as is (BIO-BVEC-NO-RETENTION); a user-backed one is
    /// extracted segment by segment with refs (BIO-REFS-LEGACY) or pins (BIO-PINS) until it is empty, the bio holds
    /// MaxVecs bvecs — physically contiguous pages share one (BIO-FULL-COUNTS-BVECS) — or an extraction fails; a page
    /// continuing the bio's last page is given back at once (BIO-SAME-PAGE-MERGE).
    /// </summary>
    public static void Add(StepContext ctx, BioAdd c)
    {
        var p = ctx.Profile;
        var it = ctx.Iters[c.Iter];
        var flags = CleanupFlags(p, it);
        var rules = new List<string> { "BIO-CLEANUP-FLAGS" };
        var pages = ImmutableList.CreateBuilder<EntryRun>();
        long pageCount = 0;

        // Pages the extractions handed over (a same-page duplicate and trimmed pages included): past max_vecs only
        // because bvecs are counted.
        long taken = 0;
        EntryRun? last = null;
        long lastEnd = 0;
        long result = 0;

        // The rules that decided how much the bio took, cited ahead of the extraction's own by the count checks.
        var decisive = new List<string>();
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

            // bio_full(bio, 0) is bi_vcnt >= bi_max_vecs, and each extraction may fill bi_max_vecs - bi_vcnt entries:
            // the bio counts bvecs, and physically contiguous pages merge into one (BIO-FULL-COUNTS-BVECS).
            long vcnt = 0;
            var extracted = false;
            var trimmed = false;
            while (it.Count > 0 && vcnt < c.MaxVecs)
            {
                var ex = IovStep.ExtractPages(ctx, it, it.Count, c.MaxVecs - vcnt, hold, rule);
                if (ex.Result <= 0 && ex.Rules.Contains("OVF-SIGN-CHECK"))
                {
                    // The overflow check refused the grab: that decided how far the bio got, so it is cited first.
                    rules.Insert(0, "OVF-SIGN-CHECK");
                    decisive.Insert(0, "OVF-SIGN-CHECK");
                }

                rules.AddRange(ex.Rules.Where(r => !rules.Contains(r)));
                if (ex.Result <= 0)
                {
                    // The caller sees the error only while the bio is still empty ("return bio->bi_vcnt ? 0 : ret").
                    result = pageCount != 0 ? 0 : ex.Result < 0 ? ex.Result : -Errno.EFAULT;
                    break;
                }

                extracted = true;
                var got = ex.Pages;
                var size = ex.Result;
                var n = PageRuns.Entries(got.Select(r => new PageRun(r.Folio, r.First, r.Count)));
                taken += n;
                if (p.BioBlockAlign == BioBlockAlign.PerExtraction && (size & (c.LogicalBlockSize - 1)) is var trim and > 0)
                {
                    // BIO-LOGICAL-BLOCK-TRIM: the trimmed bytes go back to the iterator, the pages the trimmed size no
                    // longer reaches are released at once, and an extraction left with nothing is -EFAULT.
                    size -= trim;
                    var keep = size == 0 ? 0 : (ex.Offset0!.Value + size + Sizes.PageSize - 1) / Sizes.PageSize;
                    for (var k = keep; k < n; k++)
                    {
                        var e = ReleaseStep.EntryAt(got, k);
                        FolioOps.PutFolio(ctx, e.Folio, 1, hold == Hold.Pin, hold, rules, ["BIO-LOGICAL-BLOCK-TRIM"]);
                    }

                    rules.Add("BIO-LOGICAL-BLOCK-TRIM");
                    decisive.Add("BIO-LOGICAL-BLOCK-TRIM");
                    trimmed = true;
                    ctx.Note($"extraction of {StepContext.Num(ex.Result)} bytes trimmed by {StepContext.Num(trim)} to the {StepContext.Num(c.LogicalBlockSize)}-byte block: {StepContext.Num(n - keep)} of {StepContext.Num(n)} pages released");
                    it = it.Advance(size);
                    if (size == 0)
                    {
                        result = pageCount != 0 ? 0 : -Errno.EFAULT;
                        break;
                    }

                    got = ReleaseStep.SplitAt(got, keep).Head;
                    n = keep;
                }
                else
                {
                    it = ex.Iter;
                }

                var head = ReleaseStep.EntryAt(got, 0);
                var tail = ReleaseStep.EntryAt(got, n - 1);
                var end = ex.Offset0!.Value + size - ((n - 1) * Sizes.PageSize);
                // The page the bio's last bvec ends in, and whether the new data starts where that bvec ends (a page end
                // followed by offset 0): only then may it join the bvec physically.
                var prev = last;
                var joinable = last is not null && lastEnd == Sizes.PageSize && ex.Offset0 == 0;
                if (last is { } l && l.Folio == head.Folio && l.First == head.First && lastEnd == ex.Offset0 && lastEnd < Sizes.PageSize)
                {
                    // __bio_release_pages() drops one ref/pin per page per bvec: the duplicate goes back now.
                    FolioOps.PutFolio(ctx, head.Folio, 1, hold == Hold.Pin, hold, rules, ["BIO-SAME-PAGE-MERGE"]);
                    rules.Add("BIO-SAME-PAGE-MERGE");
                    if (ex.Rules.Contains("ZERO-FAULTED-PAGE-KEPT"))
                    {
                        // The page is the same only because an earlier write fault's page was kept, not faulted again.
                        decisive.Add("ZERO-FAULTED-PAGE-KEPT");
                    }

                    got = DropFirst(got);
                    n--;
                    prev = head;
                    joinable = true;
                }

                foreach (var run in got)
                {
                    // A run is consecutive pages of one folio, so one bvec, which joins the last bvec when it continues it
                    // physically (page_is_mergeable() ≤ 6.8, bvec_try_merge_page() 6.12+): no new bvec then.
                    if (joinable && prev is not null && PhysicallyNext(ctx, prev, run with { Count = 1 }))
                    {
                        rules.Add("BIO-FULL-COUNTS-BVECS");
                    }
                    else
                    {
                        vcnt++;
                    }

                    if (run.Count > 1)
                    {
                        rules.Add("BIO-FULL-COUNTS-BVECS");
                    }

                    prev = run with { First = run.First + run.Count - 1, Count = 1 };
                    joinable = true;
                }

                pages.AddRange(got);
                pageCount += n;
                last = tail;
                lastEnd = end;
            }

            if (extracted && hold == Hold.Pin && p.HasPinVmstat && !rules.Contains("OVF-SIGN-CHECK") && (taken > c.MaxVecs || trimmed))
            {
                // How many pages each extraction pins is bi_max_vecs - bi_vcnt (BIO-FULL-COUNTS-BVECS: it matters once the
                // extractions handed over more pages than max_vecs), and the trim gives some back at once:
                // nr_foll_pin_acquired / _released rest on what applied (unless the sign check refused a grab, which
                // then is what decided them).
                var why = new List<string>();
                if (taken > c.MaxVecs)
                {
                    why.Add("BIO-FULL-COUNTS-BVECS");
                }

                if (trimmed)
                {
                    why.Add("BIO-LOGICAL-BLOCK-TRIM");
                }

                ctx.AcquiredProv = ctx.AcquiredProv.Decide(why);
                if (trimmed)
                {
                    ctx.ReleasedProv = ctx.ReleasedProv.Decide(why);
                }
            }
        }

        ctx.SetIter(c.Iter, it);
        ctx.SetBio(c.Bio, new BioState(c.Bio, flags, pages.ToImmutable(), pageCount, last, lastEnd));
        ctx.UsedBios = ctx.UsedBios.Add(c.Bio);
        if (taken > c.MaxVecs)
        {
            // More pages than bvecs: counting bvecs, not pages, is what let the bio take them.
            decisive.Add("BIO-FULL-COUNTS-BVECS");
        }

        // The cleanup flags decide nothing about how much was taken: the counts cite them last.
        List<string> counted = [.. decisive.Distinct(), .. rules.Where(r => r != "BIO-CLEANUP-FLAGS" && !decisive.Contains(r)), "BIO-CLEANUP-FLAGS"];
        List<string> flagRules = flags.Contains(Cloned) ? ["BIO-BVEC-CLONED", "BIO-CLEANUP-FLAGS"] : ["BIO-CLEANUP-FLAGS"];
        ctx.Check("result", Errno.Describe(result), counted);
        ctx.Check("bio_flags", Observation.BioFlagsText(flags), flagRules);
        ctx.Check("bio_flag_bits", "0x" + BioFlagLayout.Bits(p.Bio, flags).ToString("x", CultureInfo.InvariantCulture), ["BIO-FLAG-BITS", .. flagRules]);
        ctx.Check("bio_pages", StepContext.Num(pageCount), counted);
        ctx.Check("iter_count", StepContext.Num(it.Count), counted);
        rules.AddRange(flagRules.Where(r => !rules.Contains(r)));
        rules.Add("BIO-FLAG-BITS");
        ctx.Exercise(rules);
        ctx.Note($"bio {StepContext.Num(c.Bio)} built: {StepContext.Num(pageCount)} pages, flags {Observation.BioFlagsText(flags)}");
    }

    /// <summary>
    /// Whether page <paramref name="next"/> is the physical page right after <paramref name="prev"/>: the next page of
    /// the same folio, or page 0 of the next folio of the same Anon region (CONTRACT §1: an Anon region's folios are
    /// physically contiguous in order). Pages of other regions, the zero page and fault-installed pages are not.
    /// </summary>
    private static bool PhysicallyNext(StepContext ctx, EntryRun prev, EntryRun next)
    {
        if (prev.Folio == FolioState.ZeroKey || next.Folio == FolioState.ZeroKey)
        {
            return false;
        }

        if (prev.Folio == next.Folio)
        {
            return next.First == prev.First + 1;
        }

        if (!ModelState.TryParseKey(prev.Folio, out var r1, out var f1) || !ModelState.TryParseKey(next.Folio, out var r2, out var f2) || r1 != r2)
        {
            return false;
        }

        var region = ctx.RegionById(r1);
        return region.Kind == RegionKind.Anon && f2 == f1 + 1 && prev.First == region.FolioPages - 1 && next.First == 0;
    }

    private static ImmutableList<EntryRun> DropFirst(ImmutableList<EntryRun> runs) => runs[0].Count == 1
        ? runs.RemoveAt(0)
        : runs.SetItem(0, runs[0] with { First = runs[0].First + 1, Count = runs[0].Count - 1 });

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

        ctx.RemoveBio(c.Bio);
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
