using System.Collections.Immutable;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>Frame vectors (CONTRACT §7): get_vaddr_pfns() (2015), get_vaddr_frames() with refs, then pins.</summary>
internal static class FrameVectorStep
{
    /// <summary>frame_vector_create(): nr_frames = 0; got_ref / is_pfns are left undefined by kvmalloc().</summary>
    public static void Create(StepContext ctx, FvCreate c)
    {
        ctx.SetFv(c.Fv, new FvState(c.Fv, c.NrAllocated, 0, null, null, []));
        ctx.Check("result", "0", ["FV-CLAMP"]);
        ctx.Note($"fv {StepContext.Num(c.Fv)} created with {StepContext.Num(c.NrAllocated)} slots");
    }

    /// <summary>
    /// get_vaddr_frames(): FV-ZERO-FRAMES, FV-CLAMP, then by era: FV-REFS-NORMAL / FV-PFNMAP-NO-REF (refs or
    /// follow_pfn), FV-PINS with the pfn fallback, or FV-PFNMAP-REMOVED (pins only); nothing collected is -EFAULT
    /// (FV-EFAULT).
    /// </summary>
    public static void Get(StepContext ctx, FvGet c)
    {
        var p = ctx.Profile;
        var fv = ctx.Fvs[c.Fv];
        var rules = new List<string>();
        if (c.NrFrames == 0)
        {
            rules.Add("FV-ZERO-FRAMES");
            Observe(ctx, 0, fv, rules);
            return;
        }

        var n = (long)c.NrFrames;
        if (n > fv.NrAllocated)
        {
            n = fv.NrAllocated;
            rules.Add("FV-CLAMP");
        }

        // GUP rounds start down to its page; the follow_pfn() loop does not (see PfnWalk), so both are passed on.
        var start = c.Start;
        long result;
        (result, fv) = p.FrameVector switch
        {
            FrameVectorScheme.Proposal2015 or FrameVectorScheme.Refs => WithRefs(ctx, fv, start, n, c.Write, rules),
            FrameVectorScheme.PinsWithPfnFallback => PinsWithFallback(ctx, fv, start, n, rules),
            _ => PinsOnly(ctx, fv, PageAligned(start), n, c.Write, rules),
        };

        if (result == 0)
        {
            result = -Errno.EFAULT;
            rules.Add("FV-EFAULT");
        }

        if (result > 0)
        {
            fv = fv with { NrFrames = result };
        }

        ctx.SetFv(c.Fv, fv);
        Observe(ctx, result, fv, rules);
    }

    private static void Observe(StepContext ctx, long result, FvState fv, List<string> rules)
    {
        ctx.Check("result", Errno.Describe(result), rules);
        ctx.Check("nr_frames", StepContext.Num(fv.NrFrames), rules);
        if (fv.GotRef is { } g)
        {
            ctx.Check("got_ref", StepContext.Bool(g), rules);
        }

        if (fv.IsPfns is { } i)
        {
            ctx.Check("is_pfns", StepContext.Bool(i), rules);
        }

        ctx.Exercise(rules);
        ctx.Note($"fv {StepContext.Num(fv.Id)} get → {Errno.Describe(result)}");
    }

    /// <summary>2015 / v4.2–v5.10: get_user_pages() refs on a normal VMA (FV-REFS-NORMAL), follow_pfn() on VM_IO|VM_PFNMAP.</summary>
    private static (long, FvState) WithRefs(StepContext ctx, FvState fv, ulong start, long n, bool write, List<string> rules)
    {
        var r = ctx.RegionAt(start);
        if (r is null)
        {
            rules.Add("FV-EFAULT");
            return (-Errno.EFAULT, fv);
        }

        if (r.IsVmIoOrPfnMap)
        {
            var (count, pfns) = PfnWalk(ctx, start, n, rules);
            return (count, fv with { GotRef = false, IsPfns = true, Frames = pfns });
        }

        rules.Add("FV-REFS-NORMAL");
        var flags = Foll.Get | (write ? Foll.Write | Foll.Force : Foll.None);
        var walk = GupCore.Walk(ctx, PageAligned(start), n, flags, Hold.Ref, ["FV-REFS-NORMAL"]);
        rules.AddRange(walk.Rules);
        long result = walk.Done;
        if (walk.Error is { } err)
        {
            // What stopped the walk decided the result: cited ahead of what the walk did before it.
            rules.InsertRange(0, walk.ErrorRules);
            if (walk.Done > 0)
            {
                rules.Add("GUP-PARTIAL-RESULT");
            }
            else
            {
                result = err;
            }
        }

        return (result, fv with { GotRef = true, IsPfns = false, Frames = walk.Entries });
    }

    private static ulong PageAligned(ulong addr) => addr & ~(ulong)(Sizes.PageSize - 1);

    /// <summary>
    /// FV-PFNMAP-NO-REF: follow_pfn() page by page while inside the VM_IO|VM_PFNMAP region, on into the next one only
    /// when it starts exactly at the end and is VM_IO|VM_PFNMAP too; no refcount moves. get_vaddr_frames() does not
    /// align start: the loop runs while start + PAGE_SIZE &lt;= vm_end, so from an unaligned start the region's last
    /// page is not taken, and since start then stops short of vm_end the walk ends there ("if (ret &gt;= nr_frames ||
    /// start &lt; vma-&gt;vm_end) break;", mm/frame_vector.c v4.2–v6.0).
    /// </summary>
    private static (long Done, ImmutableList<EntryRun> Pfns) PfnWalk(StepContext ctx, ulong start, long n, List<string> rules)
    {
        rules.Add("FV-PFNMAP-NO-REF");
        long done = 0;
        var addr = start;
        var r = ctx.RegionAt(addr);
        // The pfns are remembered (held as nothing) so that a release which puts them anyway can be named.
        var pfns = ImmutableList.CreateBuilder<EntryRun>();
        while (done < n && r is not null && r.IsVmIoOrPfnMap)
        {
            var first = (long)((addr - r.Start) / (ulong)Sizes.PageSize);
            var here = Math.Min(n - done, (long)((r.End - addr) / (ulong)Sizes.PageSize));
            for (long i = 0; i < here; i++)
            {
                Memory.Append(pfns, RegionState.FolioKey(r.Id, first + i), 0, 1, Hold.None);
            }

            done += here;
            addr += (ulong)here * (ulong)Sizes.PageSize;
            if (done >= n || addr < r.End)
            {
                break;
            }

            r = ctx.RegionAt(addr);
        }

        return (done, pfns.ToImmutable());
    }

    /// <summary>
    /// v5.11–v6.1-rc7: pin_user_pages_fast(FOLL_FORCE|FOLL_WRITE|FOLL_LONGTERM) (FV-PINS); if that gives nothing,
    /// got_ref = false / is_pfns = true and the follow_pfn() walk when start is VM_IO|VM_PFNMAP, else the pin error.
    /// </summary>
    private static (long, FvState) PinsWithFallback(StepContext ctx, FvState fv, ulong start, long n, List<string> rules)
    {
        var call = GupCore.Call(ctx, EntryPoint.PinUserPagesFast, PageAligned(start), n, Foll.Force | Foll.Write | Foll.LongTerm, withPages: true, cause: ["FV-PINS"]);
        rules.Add("FV-PINS");
        rules.AddRange(call.Exercised);
        if (call.Result > 0)
        {
            return (call.Result, fv with { GotRef = true, IsPfns = false, Frames = call.Entries });
        }

        // The call failed: what made it fail decided the vector's result, so it is cited first.
        rules.InsertRange(0, call.ResultRules);
        var fallback = fv with { GotRef = false, IsPfns = true, Frames = [] };
        if (ctx.RegionAt(start) is { IsVmIoOrPfnMap: true })
        {
            var (count, pfns) = PfnWalk(ctx, start, n, rules);
            return (count, fallback with { Frames = pfns });
        }

        if (ctx.RegionAt(start) is null)
        {
            rules.Add("FV-EFAULT");
            return (-Errno.EFAULT, fallback);
        }

        return (call.Result, fallback);
    }

    /// <summary>
    /// v6.1+: pin_user_pages_fast() only; got_ref always true; no pfn walk (FV-PFNMAP-REMOVED). The flags are
    /// FOLL_LONGTERM | (write ? FOLL_WRITE : 0) from v6.2, and FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM whatever the
    /// caller wants before (6.1.192 drivers/media/common/videobuf2/frame_vector.c get_vaddr_frames() has no write).
    /// </summary>
    private static (long, FvState) PinsOnly(StepContext ctx, FvState fv, ulong start, long n, bool write, List<string> rules)
    {
        var flags = ctx.Profile.FrameVectorAlwaysWrites
            ? Foll.Force | Foll.Write | Foll.LongTerm
            : Foll.LongTerm | (write ? Foll.Write : Foll.None);
        var call = GupCore.Call(ctx, EntryPoint.PinUserPagesFast, start, n, flags, withPages: true, cause: ["FV-PINS"]);
        rules.Add("FV-PINS");
        rules.AddRange(call.Exercised);
        var held = fv with { GotRef = true, IsPfns = false, Frames = call.Result > 0 ? call.Entries : [] };
        if (call.Result > 0)
        {
            return (call.Result, held);
        }

        // The call failed: what made it fail decided the vector's result, so it is cited first.
        rules.InsertRange(0, call.ResultRules);
        rules.Add("FV-PFNMAP-REMOVED");
        if (call.Result < 0 && call.ResultRules.Contains("API-FAULT-HOLE"))
        {
            rules.Add("FV-EFAULT");
        }

        return (call.Result, held with { NrFrames = 0 });
    }

    /// <summary>
    /// put_vaddr_frames() (FV-PUT-ONLY-IF-GOT-REF): only when got_ref, every frame is released — put_page() for
    /// refs, unpin_user_pages() for pins — and got_ref cleared; nr_frames becomes 0 either way.
    /// </summary>
    public static void Put(StepContext ctx, FvPut c)
    {
        var p = ctx.Profile;
        var fv = ctx.Fvs[c.Fv];
        var rules = new List<string> { "FV-PUT-ONLY-IF-GOT-REF" };
        if (fv.GotRef == true)
        {
            var asPin = p.FrameVector is FrameVectorScheme.PinsWithPfnFallback or FrameVectorScheme.PinsOnly;
            List<string> cause = asPin ? ["FV-PUT-ONLY-IF-GOT-REF", "FV-PINS", "REL-UNPIN-PAGES-BATCH"] : ["FV-PUT-ONLY-IF-GOT-REF", "FV-REFS-NORMAL"];
            foreach (var run in fv.Frames)
            {
                FolioOps.PutFolio(ctx, run.Folio, run.Count, asPin, run.Hold, rules, cause);
            }

            ReleaseStep.NoteInverses(ctx, [], fv.Frames, rules);
        }
        else
        {
            // Nothing was taken, so nothing may be given back: the pfn frames and the release counter must not move.
            foreach (var run in fv.Frames)
            {
                var f = ctx.Folio(run.Folio);
                ctx.Put(f with { RefProv = f.RefProv.Decide(["FV-PUT-ONLY-IF-GOT-REF"]) });
            }

            ctx.ReleasedProv = ctx.ReleasedProv.Decide(["FV-PUT-ONLY-IF-GOT-REF"]);
        }

        // put_vaddr_frames() clears got_ref when set; a garbage got_ref with no frames ends cleared as well.
        fv = fv with { NrFrames = 0, GotRef = false, Frames = ImmutableList<EntryRun>.Empty };
        ctx.SetFv(c.Fv, fv);
        ctx.Check("result", "0", rules);
        ctx.Check("nr_frames", "0", rules);
        ctx.Exercise(rules);
        ctx.Note($"fv {StepContext.Num(c.Fv)} put");
    }
}
