using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>struct frame_vector (2015: struct pinned_pfns): nr_allocated, nr_frames, got_ref, is_pfns and the frames.
/// A pfn frame keeps the struct page behind the pfn so that pfn_to_page() works for the release.</summary>
public sealed class FrameVector
{
    public FrameVector(int nrAllocated)
    {
        NrAllocated = nrAllocated;
    }

    public int NrAllocated { get; }

    public int NrFrames { get; set; }

    public bool GotRef { get; set; }

    public bool IsPfns { get; set; }

    public PageArray Frames { get; set; } = new();
}

/// <summary>
/// get_vaddr_frames() / put_vaddr_frames() by era: Jan Kara's 2015 get_vaddr_pfns() (seed 2015-04), mm/frame_vector.c
/// (refs, follow_pfn() on VM_IO|VM_PFNMAP), the media copy that pins with a pfn fallback (5.11–6.1-rc7), and pins
/// only (6647e76ab623, 6.1+).
/// </summary>
public partial class KernelStyleImplementation
{
    private FrameVector Fv(int id) => _fvs.TryGetValue(id, out var v) ? v : throw new InvalidOperationException($"no frame vector {id}");

    /// <summary>frame_vector_create(nr_frames): nr_allocated = n, nr_frames = 0.</summary>
    private Observation DoFvCreate(FvCreate c)
    {
        _fvs[c.Fv] = new FrameVector(c.NrAllocated);
        return Done();
    }

    private Observation DoFvGet(FvGet c)
    {
        var vec = Fv(c.Fv);
        var ret = GetVaddrFrames(c.Start, c.NrFrames, c.Write, vec);
        return new Observation { Result = ret, NrFrames = vec.NrFrames, GotRef = vec.GotRef, IsPfns = vec.IsPfns };
    }

    private Observation DoFvPut(FvPut c)
    {
        var vec = Fv(c.Fv);
        PutVaddrFrames(vec);
        return new Observation { Result = 0, NrFrames = vec.NrFrames };
    }

    /// <summary>
    /// get_vaddr_frames(). FV-ZERO-FRAMES: nr_frames == 0 → 0; FV-CLAMP: WARN_ON_ONCE(nr_frames &gt; nr_allocated)
    /// clamps; then the era's body; FV-EFAULT: ret == 0 → -EFAULT; ret &gt; 0 sets nr_frames.
    /// </summary>
    protected virtual long GetVaddrFrames(ulong start, int nrFrames, bool write, FrameVector vec)
    {
        if (nrFrames == 0)
        {
            return 0;
        }

        if (nrFrames > vec.NrAllocated)
        {
            nrFrames = vec.NrAllocated;
        }

        return Profile.FrameVector switch
        {
            FrameVectorScheme.Proposal2015 or FrameVectorScheme.Refs => GetVaddrFramesRefs(start, nrFrames, write, vec),
            FrameVectorScheme.PinsWithPfnFallback => GetVaddrFramesPinsWithPfnFallback(start, nrFrames, vec),
            _ => GetVaddrFramesPinsOnly(start, nrFrames, write, vec),
        };
    }

    /// <summary>
    /// 2015 get_vaddr_pfns() / v4.2–v5.10 get_vaddr_frames(). FV-EFAULT: no VMA → -EFAULT. FV-REFS-NORMAL: a normal
    /// VMA → got_ref, pages, get_user_pages(FOLL_GET [| FOLL_WRITE | FOLL_FORCE]) returned as is.
    /// FV-PFNMAP-NO-REF: VM_IO|VM_PFNMAP → !got_ref, pfns, follow_pfn() walk.
    /// </summary>
    private long GetVaddrFramesRefs(ulong start, int nrFrames, bool write, FrameVector vec)
    {
        var vma = Mm.FindVma(start);
        long ret;
        if (vma is null)
        {
            ret = -Errno.EFAULT;
        }
        else if ((vma.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) == 0)
        {
            vec.GotRef = true;
            vec.IsPfns = false;
            var pages = new PageArray();
            var gupFlags = FOLL_GET | (write ? FOLL_WRITE | FOLL_FORCE : 0);
            ret = GetUserPagesLocked(start, nrFrames, gupFlags, pages);
            vec.Frames = pages;
        }
        else
        {
            vec.GotRef = false;
            vec.IsPfns = true;
            ret = FollowPfnWalk(vma, start, nrFrames, vec);
        }

        return FinishVaddrFrames(ret, vec);
    }

    /// <summary>
    /// The follow_pfn() loop: pfns while the VMA covers the next page; at its end continue only into a VMA that
    /// starts exactly there and is VM_IO|VM_PFNMAP too (partial results otherwise). No refcount is touched.
    /// </summary>
    protected virtual long FollowPfnWalk(Vma vma, ulong start, int nrFrames, FrameVector vec)
    {
        var frames = new PageArray();
        long ret = 0;
        Vma? cur = vma;
        while (cur is not null && (cur.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0)
        {
            while (ret < nrFrames && start + (ulong)PAGE_SIZE <= cur.VmEnd)
            {
                frames.Add(FollowPage(cur, start));
                start += (ulong)PAGE_SIZE;
                ret++;
            }

            // Stop with enough frames, or when the VMA does not completely cover the tail page.
            if (ret >= nrFrames || start < cur.VmEnd)
            {
                break;
            }

            cur = Mm.FindVma(start);
        }

        vec.Frames = frames;
        return ret;
    }

    /// <summary>
    /// media frame_vector.c 5.11–6.1-rc7. FV-PINS: pin_user_pages_fast(FOLL_FORCE|FOLL_WRITE|FOLL_LONGTERM) &gt; 0 →
    /// got_ref, pages. Otherwise got_ref = false, is_pfns = true and the follow_pfn() walk — only a VM_IO|VM_PFNMAP
    /// VMA yields pfns; on another VMA follow_pfn() says -EINVAL and the pin's own error is returned (6.1-rc7;
    /// the contract turns a 0 from the pin into -EFAULT).
    /// </summary>
    private long GetVaddrFramesPinsWithPfnFallback(ulong start, int nrFrames, FrameVector vec)
    {
        var pages = new PageArray();
        var pinRet = PinUserPagesFast(start, nrFrames, FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM, pages);
        if (pinRet > 0)
        {
            vec.GotRef = true;
            vec.IsPfns = false;
            vec.Frames = pages;
            return FinishVaddrFrames(pinRet, vec);
        }

        vec.GotRef = false;
        vec.IsPfns = true;
        var vma = Mm.FindVma(start);
        long ret;
        if (vma is null)
        {
            ret = -Errno.EFAULT;
        }
        else if ((vma.Flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) == 0)
        {
            ret = pinRet != 0 ? pinRet : -Errno.EFAULT;
        }
        else
        {
            ret = FollowPfnWalk(vma, start, nrFrames, vec);
        }

        return FinishVaddrFrames(ret, vec);
    }

    /// <summary>
    /// v6.1+ (6647e76ab623). FV-PFNMAP-REMOVED: pin_user_pages_fast(FOLL_LONGTERM [| FOLL_WRITE]) only (6.1:
    /// FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM, there is no write argument before v6.2);
    /// got_ref = true, is_pfns = false unconditionally; ret &lt;= 0 → nr_frames = 0, ret ? ret : -EFAULT.
    /// </summary>
    private long GetVaddrFramesPinsOnly(ulong start, int nrFrames, bool write, FrameVector vec)
    {
        var pages = new PageArray();
        var flags = Profile.FrameVectorAlwaysWrites ? FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM : FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
        var ret = PinUserPagesFast(start, nrFrames, flags, pages);
        vec.GotRef = true;
        vec.IsPfns = false;
        vec.Frames = pages;
        if (ret > 0)
        {
            vec.NrFrames = (int)ret;
            return ret;
        }

        vec.NrFrames = 0;
        return ret != 0 ? ret : -Errno.EFAULT;
    }

    /// <summary>out: if (!ret) ret = -EFAULT; if (ret &gt; 0) vec-&gt;nr_frames = ret (FV-EFAULT).</summary>
    private static long FinishVaddrFrames(long ret, FrameVector vec)
    {
        if (ret == 0)
        {
            ret = -Errno.EFAULT;
        }

        if (ret > 0)
        {
            vec.NrFrames = (int)ret;
        }

        return ret;
    }

    /// <summary>
    /// put_vaddr_frames(). FV-PUT-ONLY-IF-GOT-REF: only when got_ref — put_page() per frame (2015 / refs era;
    /// pfns converted back with pfn_to_page()) or unpin_user_pages() (pin eras); got_ref cleared. nr_frames = 0.
    /// </summary>
    protected virtual void PutVaddrFrames(FrameVector vec)
    {
        if (vec.GotRef)
        {
            PutFrames(vec);
            vec.GotRef = false;
        }

        vec.NrFrames = 0;
    }

    /// <summary>The release of nr_frames frames as the era took them.</summary>
    protected void PutFrames(FrameVector vec)
    {
        if (Profile.FrameVector is FrameVectorScheme.Proposal2015 or FrameVectorScheme.Refs)
        {
            foreach (var span in vec.Frames.Slice(0, vec.NrFrames))
            {
                for (long k = 0; k < span.Count; k++)
                {
                    PutPage(new Page(span.Folio, span.First + k));
                }
            }
        }
        else
        {
            UnpinUserPages(vec.Frames, 0, vec.NrFrames);
        }
    }
}
