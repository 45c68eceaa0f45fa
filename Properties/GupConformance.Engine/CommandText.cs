using System.Globalization;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>Readable renderings of commands, as a kernel developer would write the call.</summary>
public static class CommandText
{
    /// <summary>The command's kind: the same names the JSON trace format uses as "op".</summary>
    public static string Kind(Command command) => command switch
    {
        // The inspections first: they are most of the commands of a run, and each case is one type test.
        InspectFolio => "inspect_folio",
        ReadVmstat => "read_vmstat",
        InspectMm => "inspect_mm",
        MapRegion => "map",
        Gup => "gup",
        Release => "release",
        UnpinArray => "unpin_array",
        FolioAddPin => "folio_add_pin",
        IterInit => "iter_init",
        IterExtract => "iter_extract",
        IterRetention => "iter_retention",
        BioAdd => "bio_add",
        BioRelease => "bio_release",
        FvCreate => "fv_create",
        FvGet => "fv_get",
        FvPut => "fv_put",
        NetfsExtract => "netfs_extract",
        NetfsFree => "netfs_free",
        _ => command.GetType().Name,
    };

    /// <summary>Every kind name, in the catalogue's order.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
    [
        "map", "gup", "release", "unpin_array", "folio_add_pin", "iter_init", "iter_extract", "iter_retention", "bio_add",
        "bio_release", "fv_create", "fv_get", "fv_put", "netfs_extract", "netfs_free", "inspect_folio", "read_vmstat", "inspect_mm",
    ];

    public static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string B(bool v) => v ? "true" : "false";

    /// <summary>e.g. <c>pin_user_pages_fast(start=0x10000000, nr=2, FOLL_WRITE) [call 3]</c>.</summary>
    public static string Render(Command command, Profile? profile = null)
    {
        switch (command)
        {
            case MapRegion m:
                {
                    var what = m.Kind switch
                    {
                        RegionKind.Anon => m.Order == 0
                            ? $"{N(m.Folios)} small folio{(m.Folios == 1 ? string.Empty : "s")}"
                            : $"{N(m.Folios)} folio{(m.Folios == 1 ? string.Empty : "s")} of order {N(m.Order)}",
                        _ => $"{N(m.Pages)} page{(m.Pages == 1 ? string.Empty : "s")}",
                    };
                    var rc = m.Kind == RegionKind.Anon && m.StartRefcount != 1 ? $", refcount {N(m.StartRefcount)}" : string.Empty;
                    var mm = m.Mm != 0 ? $" in mm{N(m.Mm)}" : string.Empty;
                    mm += m.Movable ? " movable" : string.Empty;
                    return $"map r{N(m.Region)} {m.Kind.ToString().ToLowerInvariant()}{mm} [{Hex(m.Start)}, {Hex(m.End)}): {what}{rc}";
                }

            case Gup g:
                {
                    var pages = g.WithPages ? string.Empty : ", pages=NULL";
                    var mm = g.Entry is EntryPoint.GetUserPagesRemote or EntryPoint.PinUserPagesRemote ? $"mm{N(g.Mm)}, " : string.Empty;
                    var locked = g.Locked is { } l ? $", locked=&{N(l)}" : string.Empty;
                    return $"{g.Entry.KernelName()}({mm}start={Hex(g.Start)}, nr={N(g.NrPages)}, {g.Flags.Render()}{pages}{locked}) [call {N(g.Call)}]";
                }

            case Release r:
                {
                    var name = r.Fn switch
                    {
                        ReleaseFn.PutPage => "put_page",
                        ReleaseFn.UnpinUserPage => "unpin_user_page",
                        ReleaseFn.UnpinUserPages => "unpin_user_pages",
                        ReleaseFn.UnpinUserPagesDirtyLock => "unpin_user_pages_dirty_lock",
                        ReleaseFn.UnpinUserPageRangeDirtyLock => "unpin_user_page_range_dirty_lock",
                        _ => r.Fn.ToString(),
                    };
                    var range = r.Count == 1
                        ? $"call {N(r.Call)} entry {N(r.Index)}"
                        : $"call {N(r.Call)} entries {N(r.Index)}..{N((long)r.Index + r.Count - 1)}";
                    var dirty = r.Fn is ReleaseFn.UnpinUserPagesDirtyLock or ReleaseFn.UnpinUserPageRangeDirtyLock
                        ? $", make_dirty={B(r.MakeDirty)}"
                        : string.Empty;
                    return $"{name}({range}{dirty})";
                }

            case UnpinArray u:
                {
                    var name = u.Fn == ReleaseFn.UnpinUserPagesDirtyLock ? "unpin_user_pages_dirty_lock" : "unpin_user_pages";
                    var npages = u.Errno != 0 ? $"npages=-{N(u.Errno)}" : $"npages={N((long)u.NullPrefix + u.Count)}";
                    var dirty = u.Fn == ReleaseFn.UnpinUserPagesDirtyLock ? $", make_dirty={B(u.MakeDirty)}" : string.Empty;
                    return $"{name}([{N(u.NullPrefix)} x NULL, call {N(u.Call)} entries {N(u.Index)}..{N((long)u.Index + u.Count - 1)}], {npages}{dirty})";
                }

            case FolioAddPin a:
                return $"folio_add_pin(call {N(a.FromCall)} entry {N(a.Index)}) [call {N(a.NewCall)}]";

            case IterInit i:
                {
                    var segs = string.Join(", ", i.Segs.Select(s => $"{Hex(s.Addr)}+{N(s.Len)}"));
                    return $"iov_iter_init(it{N(i.Iter)}, {i.Kind.ToString().ToUpperInvariant()}, {(i.Dir == IterDir.Source ? "ITER_SOURCE" : "ITER_DEST")}, [{segs}])";
                }

            case IterExtract e:
                return $"iov_iter_extract_pages(it{N(e.Iter)}, maxsize={N(e.MaxSize)}, maxpages={N(e.MaxPages)}){(e.AllocFails ? " with the pages-array allocation failing" : string.Empty)} [call {N(e.Call)}]";

            case IterRetention q:
                return profile is not null && profile.Iov is IovScheme.Rfc2022 or IovScheme.V8Pin
                    ? $"iov_iter_extract_mode(it{N(q.Iter)})"
                    : $"iov_iter_extract_will_pin(it{N(q.Iter)})";

            case BioAdd b:
                return b.LogicalBlockSize == 512
                    ? $"bio_iov_iter_get_pages(bio{N(b.Bio)}, it{N(b.Iter)}, max_vecs={N(b.MaxVecs)})"
                    : $"bio_iov_iter_get_pages(bio{N(b.Bio)}, it{N(b.Iter)}, max_vecs={N(b.MaxVecs)}, logical_block_size={N(b.LogicalBlockSize)})";

            case BioRelease br:
                return $"bio_release_pages(bio{N(br.Bio)}, mark_dirty={B(br.MarkDirty)})";

            case FvCreate fc:
                return $"{FvPrefix(profile)}_vector_create(fv{N(fc.Fv)}, nr_allocated={N(fc.NrAllocated)})";

            case FvGet fg:
                return $"get_vaddr_{FvSuffix(profile)}(start={Hex(fg.Start)}, nr_frames={N(fg.NrFrames)}, write={B(fg.Write)}, fv{N(fg.Fv)})";

            case FvPut fp:
                return $"put_vaddr_{FvSuffix(profile)}(fv{N(fp.Fv)})";

            case NetfsExtract ne:
                return $"netfs_extract_user_iter(it{N(ne.Iter)}, len={N(ne.MaxSize)}) [netfs {N(ne.Netfs)}]";

            case NetfsFree nf:
                return $"netfs_free_request(netfs {N(nf.Netfs)})";

            case InspectFolio f:
                return $"inspect {f.Folio}";

            case ReadVmstat:
                return "read_vmstat";

            case InspectMm m:
                return $"inspect mm{N(m.Mm)}";

            default:
                return command.ToString();
        }
    }

    private static string FvPrefix(Profile? p) => p?.FrameVector == FrameVectorScheme.Proposal2015 ? "pfns" : "frame";

    private static string FvSuffix(Profile? p) => p?.FrameVector == FrameVectorScheme.Proposal2015 ? "pfns" : "frames";
}
