using System.Globalization;
using GupConformance.Spec.Live;

namespace GupConformance.Oracles.Live;

/// <summary>The live model's answer for one command (same shape as <see cref="StepOutcome"/>).</summary>
public sealed record LiveOutcome(LiveState Next, IReadOnlyList<FieldCheck> Checks, IReadOnlyList<string> Exercised, string Change);

/// <summary>
/// The consumer layer on top of GUP, as user space sees it on a running kernel: io_uring fixed buffers, direct and
/// buffered I/O, vmsplice, process_vm_readv/writev, munmap and fork. Pure: Init / Precondition / Step. Every check
/// names rule ids of <see cref="Spec.LiveRules"/>.
/// </summary>
public static class LiveModel
{
    public const int MaxRegions = 8;
    public const int MaxRings = 4;
    public const int MaxPipes = 4;
    public const int MaxIovs = 4;
    public const long MaxIoBytes = 1 << 20;
    public const long MaxRegisterBytes = 4 << 20;
    private const long Page = 4096;
    private const int Efault = -14;
    private const int Ebusy = -16;
    private const int Enxio = -6;
    private const int Enomem = -12;

    public static LiveState Init(LiveProfile profile, LiveEnvironment environment) => new() { Profile = profile, Environment = environment };

    public static int FolioPages(LiveRegionKind kind) => kind switch
    {
        LiveRegionKind.Thp or LiveRegionKind.Hugetlb => 512,
        LiveRegionKind.Mthp64 => 16,
        _ => 1,
    };

    /// <summary>The virtual pages an iovec spans: (region page index, or -1 past the region / in the hole).</summary>
    public static IEnumerable<long> PagesOf(LiveIov iov)
    {
        var first = iov.Offset / Page;
        var last = (iov.Offset + iov.Length - 1) / Page;
        for (var p = first; p <= last; p++)
        {
            yield return p;
        }
    }

    /// <summary>
    /// The live rules this machine cannot judge, with the reason: behaviour that needs something the environment
    /// probe found missing. They are reported Not applicable; every other rule is judged as usual.
    /// </summary>
    public static IReadOnlyDictionary<string, string> NotJudgeable(LiveEnvironment env)
    {
        var rules = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!env.ZeroPageOnRead)
        {
            rules["LIVE-DIO-ZERO-PAGE"] = "this kernel maps no zero page on a read fault (probed), so no pin of the zero page can happen";
        }

        if (!env.HasThp && !env.HasMthp64 && !env.HasHugetlb)
        {
            const string why = "no large folios on this machine (THP off, no 64 KiB mTHP, no hugetlb pool)";
            rules["LIVE-URING-COALESCE"] = why;
            rules["LIVE-FORK-LARGE-WHOLE"] = why;
        }

        return rules;
    }

    public static string? Precondition(LiveState s, LiveCommand command)
    {
        switch (command)
        {
            case LiveMap m:
                if (m.Region is < 0 or >= 64 || s.Regions.ContainsKey(m.Region))
                {
                    return "region id in use or out of range";
                }

                if (s.Regions.Count >= MaxRegions)
                {
                    return "too many regions";
                }

                return m.Kind switch
                {
                    LiveRegionKind.Small => m.Pages is >= 1 and <= 64 ? null : "small regions hold 1..64 pages",
                    LiveRegionKind.Thp => !s.Environment.HasThp ? "THP not available" : m.Pages is 512 or 1024 ? null : "THP regions hold 1 or 2 folios",
                    LiveRegionKind.Mthp64 => !s.Environment.HasMthp64 ? "64 KiB mTHP not available" : m.Pages is >= 16 and <= 128 && m.Pages % 16 == 0 ? null : "mTHP regions hold 1..8 folios",
                    LiveRegionKind.Hugetlb => !s.Environment.HasHugetlb ? "no hugetlb pool" : m.Pages is 512 or 1024 ? null : "hugetlb regions hold 1 or 2 huge pages",
                    _ => "unknown kind",
                };
            case LiveTouch t:
                {
                    if (!s.Regions.TryGetValue(t.Region, out var r) || t.Page < 0 || t.Count < 1 || t.Page + t.Count > r.Pages.Length)
                    {
                        return "touch outside a live region";
                    }

                    return t.Write && Enumerable.Range(t.Page, t.Count).Any(i => SharedLarge(s, r.Pages[i])) ? "write to a shared large folio (not modelled)" : null;
                }

            case LiveUnmap u:
                return s.Regions.ContainsKey(u.Region) ? null : "no such region";
            case LiveRingSetup rs:
                return rs.Ring is < 0 or >= 16 || s.Rings.ContainsKey(rs.Ring) ? "ring id in use or out of range" : s.Rings.Count >= MaxRings ? "too many rings" : null;
            case LiveRingClose rc:
                return s.Rings.ContainsKey(rc.Ring) ? null : "no such ring";
            case LiveUnregister ur:
                return s.Rings.ContainsKey(ur.Ring) ? null : "no such ring";
            case LiveRegister reg:
                return !s.Rings.ContainsKey(reg.Ring) ? "no such ring" : CheckIovs(s, reg.Iovs, allowOverrun: true, align512: false, pinsOrWrites: true, maxBytes: MaxRegisterBytes);
            case LiveDirectIo d:
                return d.Iovs.Sum(i => PagesOf(i).LongCount()) > 256 ? "more than one bio's worth of pages (256)" : CheckIovs(s, d.Iovs, allowOverrun: false, align512: true, pinsOrWrites: true);
            case LiveBufferedIo b:
                return CheckIovs(s, b.Iovs, allowOverrun: false, align512: false, pinsOrWrites: !b.Write);
            case LiveProcessVm p:
                return CheckIovs(s, p.Iovs, allowOverrun: false, align512: false, pinsOrWrites: true);
            case LivePipeOpen po:
                return po.Pipe is < 0 or >= 16 || s.Pipes.ContainsKey(po.Pipe) ? "pipe id in use or out of range"
                    : s.Pipes.Count >= MaxPipes ? "too many pipes" : po.Slots is 16 or 64 or 256 ? null : "slots: 16, 64 or 256";
            case LiveVmsplice v:
                {
                    if (!s.Pipes.TryGetValue(v.Pipe, out var pipe))
                    {
                        return "no such pipe";
                    }

                    var why = CheckIovs(s, v.Iovs, allowOverrun: false, align512: false, pinsOrWrites: false);
                    return why ?? (pipe.Used.Count + v.Iovs.Sum(i => PagesOf(i).LongCount()) > pipe.Slots ? "the pipe would fill up" : null);
                }

            case LivePipeClose pc:
                return s.Pipes.ContainsKey(pc.Pipe) ? null : "no such pipe";
            case LiveFork or LiveThreshold:
                if (command is LiveThreshold { MaxRefs: not 1100 })
                {
                    return "the threshold search runs up to 1100 references";
                }

                return HugetlbCopies(s) > s.Environment.HugetlbPool - s.HugetlbInUse ? "fork would run out of huge pages (a failed fork's partial effects are not modelled)" : null;
            case LiveInspect i:
                return s.Regions.ContainsKey(i.Region) ? null : "no such region";
            default:
                return $"unknown live command {command.GetType().Name}";
        }
    }

    private static bool SharedLarge(LiveState s, LivePage p) => p.Kind == LivePageKind.Anon && !p.Exclusive && s.Frames[p.Frame].Large;

    private static string? CheckIovs(LiveState s, IReadOnlyList<LiveIov> iovs, bool allowOverrun, bool align512, bool pinsOrWrites, long maxBytes = MaxIoBytes)
    {
        if (iovs.Count is < 1 or > MaxIovs)
        {
            return "1..4 iovecs";
        }

        long total = 0;
        foreach (var iov in iovs)
        {
            if (iov.Length < 1 || iov.Offset < 0)
            {
                return "empty or negative iovec";
            }

            if (align512 && (iov.Offset % 512 != 0 || iov.Length % 512 != 0))
            {
                return "O_DIRECT needs 512-byte aligned iovecs";
            }

            total += iov.Length;
            if (iov.Region < 0)
            {
                if (!allowOverrun || iov.Offset + iov.Length > 64 * Page)
                {
                    return "hole iovecs only for registration, inside the 64-page hole";
                }

                continue;
            }

            if (!s.Regions.TryGetValue(iov.Region, out var r) || iov.Offset >= r.Bytes)
            {
                return "iovec outside a live region";
            }

            if (iov.Offset + iov.Length > r.Bytes + (allowOverrun ? 2 * Page : 0))
            {
                return "iovec runs past the region";
            }

            if (pinsOrWrites && PagesOf(iov).Where(p => p < r.Pages.Length).Any(p => SharedLarge(s, r.Pages[p])))
            {
                return "pin or write on a shared large folio (not modelled)";
            }
        }

        return total > maxBytes ? "too many bytes" : null;
    }

    private static int HugetlbCopies(LiveState s) => s.HasPinned
        ? s.Regions.Values.Where(r => r.Kind == LiveRegionKind.Hugetlb)
            .SelectMany(r => r.Pages).Where(p => p.Kind == LivePageKind.Anon && p.Exclusive && s.Frames[p.Frame].Pins > 0)
            .Select(p => p.Frame).Distinct().Count()
        : 0;

    public static LiveOutcome Step(LiveState state, LiveCommand command)
    {
        var why = Precondition(state, command);
        if (why is not null)
        {
            throw new InvalidOperationException($"invalid live command {command}: {why}");
        }

        var x = new LiveStep(state.Clone(), command);
        x.Run();
        return x.Finish();
    }

    private sealed class LiveStep(LiveState s, LiveCommand command)
    {
        private readonly List<FieldCheck> _checks = [];
        private readonly List<string> _exercised = [];
        private readonly List<string> _change = [];
        private long _acq;
        private long _rel;
        private long _result;
        private readonly List<string> _countRules = [];
        private readonly List<string> _vmpinRules = ["LIVE-URING-VMPIN"];
        private readonly HashSet<int> _stateChecked = [];

        private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

        private void Ex(string rule)
        {
            if (!_exercised.Contains(rule))
            {
                _exercised.Add(rule);
            }
        }

        private void Check(string field, IReadOnlyList<string> allowed, params string[] rules) => _checks.Add(new FieldCheck(field, allowed, rules));

        public void Run()
        {
            switch (command)
            {
                case LiveMap m: Map(m); break;
                case LiveTouch t: Touch(t); break;
                case LiveUnmap u: Unmap(u); break;
                case LiveRingSetup rs:
                    s.Rings[rs.Ring] = new LiveRing();
                    _change.Add($"ring{N(rs.Ring)} created");
                    break;
                case LiveRingClose rc: CloseRing(rc); break;
                case LiveRegister reg: Register(reg); break;
                case LiveUnregister ur: Unregister(ur); break;
                case LiveDirectIo d: DirectIo(d); break;
                case LiveBufferedIo b: Buffered(b); break;
                case LivePipeOpen po:
                    s.Pipes[po.Pipe] = new LivePipe { Slots = po.Slots };
                    Check("slots", [N(po.Slots)], "LIVE-GET-INVISIBLE");
                    _change.Add($"pipe{N(po.Pipe)} with {N(po.Slots)} slots");
                    break;
                case LiveVmsplice v: Vmsplice(v); break;
                case LivePipeClose pc: ClosePipe(pc); break;
                case LiveProcessVm p: ProcessVm(p); break;
                case LiveFork: Fork(report: true); break;
                case LiveThreshold t: Threshold(t.InChild); break;
                case LiveInspect: break;
                default: throw new InvalidOperationException(command.GetType().Name);
            }
        }

        public LiveOutcome Finish()
        {
            s.Collect();
            if (!command.IsQuery)
            {
                Check("base", ["ok"], "LIVE-VMSTAT-BASELINE");
                var distinct = _countRules.Distinct().ToArray();
                Check("result", [N(_result)], distinct.Length > 0 ? distinct : ["LIVE-FAULT-STATE"]);
                var countRules = distinct.Length > 0 ? distinct : ["LIVE-GET-INVISIBLE", "LIVE-BUFFERED-NO-PIN"];
                Check("dacq", [N(_acq)], countRules);
                Check("drel", [N(_rel)], countRules);
                Check("vmpin", [N(s.VmPinKb)], [.. _vmpinRules]);
                Ex("LIVE-VMSTAT-BASELINE");
            }

            var named = command is LiveFork or LiveThreshold ? s.Regions.Keys.ToList() : command.RegionsNamed.Where(s.Regions.ContainsKey).ToList();
            foreach (var id in named.Order())
            {
                var r = s.Regions[id];
                Check($"state.r{N(id)}", [s.StateText(r)], "LIVE-FAULT-STATE", "LIVE-FORK-SHARE", "LIVE-UNSHARE");
                Check($"layout.r{N(id)}", [s.LayoutText(r)], "LIVE-FOLIO-LAYOUT");
                Ex("LIVE-FAULT-STATE");
            }

            var change = _change.Count == 0 ? "no change" : string.Join("; ", _change);
            return new LiveOutcome(s, _checks, _exercised, change);
        }

        private void Map(LiveMap m)
        {
            if (m.Kind == LiveRegionKind.Hugetlb && m.Pages / 512 > s.Environment.HugetlbPool - s.HugetlbInUse)
            {
                _result = Enomem;
                _change.Add("hugetlb pool exhausted: -ENOMEM");
                Ex("LIVE-FOLIO-LAYOUT");
                return;
            }

            var pages = new LivePage[m.Pages];
            var fp = FolioPages(m.Kind);
            if (m.Kind != LiveRegionKind.Small)
            {
                for (var f = 0; f < m.Pages / fp; f++)
                {
                    var id = s.NewFrame(fp, m.Kind);
                    for (var i = 0; i < fp; i++)
                    {
                        pages[(f * fp) + i] = new LivePage(LivePageKind.Anon, id, i, true);
                    }
                }

                Ex("LIVE-FOLIO-LAYOUT");
            }

            s.Regions[m.Region] = new LiveRegion { Id = m.Region, Kind = m.Kind, Pages = pages, AnonVma = m.Kind != LiveRegionKind.Small };
            _change.Add($"r{N(m.Region)}: {N(m.Pages)} pages ({m.Kind})");
        }

        private void Touch(LiveTouch t)
        {
            var r = s.Regions[t.Region];
            for (var i = t.Page; i < t.Page + t.Count; i++)
            {
                if (t.Write)
                {
                    WriteFault(r, i);
                }
                else
                {
                    ReadFault(r, i);
                }
            }

            _change.Add($"r{N(t.Region)} {(t.Write ? "written" : "read")}");
        }

        /// <summary>A write fault, FOLL_WRITE fault or unshare: afterwards the page is an exclusive anonymous page.</summary>
        private void WriteFault(LiveRegion r, long i)
        {
            var p = r.Pages[i];
            if (p.Kind != LivePageKind.Anon)
            {
                var id = s.NewFrame(1, LiveRegionKind.Small);
                r.Pages[i] = new LivePage(LivePageKind.Anon, id, 0, true);
                r.AnonVma = true;
                return;
            }

            if (p.Exclusive)
            {
                return;
            }

            Ex("LIVE-UNSHARE");
            var f = s.Frames[p.Frame];
            if (f.Refs == 0 && f.Pins == 0)
            {
                r.Pages[i] = p with { Exclusive = true };
                _change.Add($"r{N(r.Id)} page {N(i)} reused");
            }
            else
            {
                f.Mapped = false;
                var id = s.NewFrame(1, LiveRegionKind.Small);
                r.Pages[i] = new LivePage(LivePageKind.Anon, id, 0, true);
                _change.Add($"r{N(r.Id)} page {N(i)} copied (the old frame keeps {N(f.Refs)} references)");
            }
        }

        /// <summary>A read fault (or a GUP without FOLL_WRITE) on an untouched page: do_anonymous_page() maps the shared
        /// zero page, unless this machine's kernel maps no zero page on read faults (an environment fact, probed),
        /// in which case it maps a fresh exclusive page exactly as a write fault would.</summary>
        private void ReadFault(LiveRegion r, long i)
        {
            if (r.Pages[i].Kind != LivePageKind.Untouched)
            {
                return;
            }

            if (!s.Environment.ZeroPageOnRead)
            {
                WriteFault(r, i);
                return;
            }

            r.Pages[i] = new LivePage(LivePageKind.Zero, -1, 0, false);
        }

        /// <summary>A GUP with FOLL_PIN on one page: FOLL_WRITE faults, R/O unshares a shared anonymous page. Returns
        /// the page afterwards and whether a pin was counted.</summary>
        private (LivePage Page, bool Counted) Pin(LiveRegion r, long i, bool write)
        {
            if (write)
            {
                WriteFault(r, i);
            }
            else
            {
                ReadFault(r, i);
                if (r.Pages[i].Kind == LivePageKind.Anon && !r.Pages[i].Exclusive)
                {
                    WriteFault(r, i);
                }
            }

            var p = r.Pages[i];
            if (p.Kind == LivePageKind.Zero)
            {
                Ex("LIVE-DIO-ZERO-PAGE");
                return (p, s.Profile.ZeroPagePinned);
            }

            return (p, true);
        }

        private void Unmap(LiveUnmap u)
        {
            var r = s.Regions[u.Region];
            foreach (var p in r.Pages.Where(p => p.Kind == LivePageKind.Anon))
            {
                s.Frames[p.Frame].Mapped = false;
            }

            if (r.Pages.Any(p => p.Kind == LivePageKind.Anon && s.Frames[p.Frame].Pins > 0))
            {
                Ex("LIVE-MUNMAP-KEEPS-PINS");
                _countRules.Add("LIVE-MUNMAP-KEEPS-PINS");
                _vmpinRules.Add("LIVE-MUNMAP-KEEPS-PINS");
            }

            s.Regions.Remove(u.Region);
            _change.Add($"r{N(u.Region)} unmapped");
        }

        private void Register(LiveRegister reg)
        {
            var ring = s.Rings[reg.Ring];
            _countRules.Add("LIVE-URING-PIN-PER-PAGE");
            if (ring.HasBuffers)
            {
                _result = Ebusy;
                _countRules.Add("LIVE-URING-BUSY");
                Ex("LIVE-URING-BUSY");
                _change.Add($"ring{N(reg.Ring)} busy");
                return;
            }

            s.HasPinned = true;
            Ex("LIVE-FORK-HAS-PINNED");
            long pinned = 0;
            var held = new List<(int Frame, int Pins)>();
            long vmpin = 0;
            var lastHead = -1;
            var charged = new HashSet<int>();
            foreach (var iov in reg.Iovs)
            {
                var pages = new List<LivePage>();
                var failed = false;
                foreach (var vp in PagesOf(iov))
                {
                    if (iov.Region < 0 || vp >= s.Regions[iov.Region].Pages.Length)
                    {
                        failed = true;
                        break;
                    }

                    pages.Add(Pin(s.Regions[iov.Region], vp, write: true).Page);
                }

                pinned += pages.Count;
                if (failed)
                {
                    _result = Efault;
                    _acq = _rel = pinned;
                    _countRules.Add("LIVE-URING-ERROR-UNDO");
                    Ex("LIVE-URING-ERROR-UNDO");
                    _change.Add($"ring{N(reg.Ring)}: -EFAULT after pinning {N(pinned)} pages, all released");
                    return;
                }

                var kept = Coalesce(pages);
                foreach (var (frame, pins) in kept)
                {
                    held.Add((frame, pins));
                }

                // io_buffer_account_pin(): small pages 4 kB each; a compound page whole, unless it is the previous page's
                // (last_hpage) or headpage_already_acct() finds it: in this iovec's earlier pages (which, the iovec
                // being contiguous, only last_hpage can hold) and, up to 6.12, in the buffers this call registered before.
                foreach (var (frame, _) in kept)
                {
                    var f = s.Frames[frame];
                    if (!f.Large)
                    {
                        vmpin += 4;
                        continue;
                    }

                    if (frame == lastHead)
                    {
                        continue;
                    }

                    lastHead = frame;
                    if (!charged.Add(frame) && s.Profile.VmPinSearchesEarlierBuffers)
                    {
                        continue;
                    }

                    vmpin += 4L * f.Pages;
                }
            }

            foreach (var (frame, pins) in held)
            {
                s.Frames[frame].Pins += pins;
            }

            var keptPins = held.Sum(h => (long)h.Pins);
            _acq = pinned;
            _rel = pinned - keptPins;
            if (_rel > 0)
            {
                _countRules.Add("LIVE-URING-COALESCE");
                Ex("LIVE-URING-COALESCE");
            }

            ring.HasBuffers = true;
            ring.Held.AddRange(held);
            ring.VmPinKb = vmpin;
            Ex("LIVE-URING-PIN-PER-PAGE");
            Ex("LIVE-URING-VMPIN");
            _change.Add($"ring{N(reg.Ring)}: {N(pinned)} pages pinned, {N(keptPins)} pins kept, VmPin +{N(vmpin)} kB");
        }

        /// <summary>The pins kept for one iovec's pages: per page, or one per large folio when they line up.</summary>
        private List<(int Frame, int Pins)> Coalesce(List<LivePage> pages)
        {
            var perPage = pages.Select(p => (p.Frame, 1)).ToList();
            if (pages.Count <= 1 || s.Profile.Coalesce == CoalesceMode.None)
            {
                return perPage;
            }

            int Size(LivePage p) => s.Frames[p.Frame].Pages;
            if (s.Profile.Coalesce == CoalesceMode.SingleFolio)
            {
                var one = Size(pages[0]) > 1 && pages.All(p => p.Frame == pages[0].Frame)
                    && pages.Zip(pages.Skip(1)).All(z => z.Second.Index == z.First.Index + 1);
                return one ? [(pages[0].Frame, 1)] : perPage;
            }

            // io_check_coalesce_buffer()
            var folio = pages[0].Frame;
            var mid = Size(pages[0]);
            var count = 1;
            var folios = new List<int> { folio };
            for (var i = 1; i < pages.Count; i++)
            {
                if (pages[i].Frame == folio && pages[i].Index == pages[i - 1].Index + 1)
                {
                    count++;
                    continue;
                }

                if (folios.Count == 1)
                {
                    if (pages[i - 1].Index != mid - 1)
                    {
                        return perPage;
                    }
                }
                else if (count != mid)
                {
                    return perPage;
                }

                folio = pages[i].Frame;
                if (Size(pages[i]) != mid || pages[i].Index != 0)
                {
                    return perPage;
                }

                count = 1;
                folios.Add(folio);
            }

            return mid == 1 ? perPage : [.. folios.Select(f => (f, 1))];
        }

        private void Release(LiveRing ring)
        {
            foreach (var (frame, pins) in ring.Held)
            {
                s.Frames[frame].Pins -= pins;
                _rel += pins;
            }

            ring.Held.Clear();
            ring.HasBuffers = false;
            ring.VmPinKb = 0;
        }

        private void Unregister(LiveUnregister ur)
        {
            var ring = s.Rings[ur.Ring];
            _countRules.Add("LIVE-URING-UNREGISTER");
            Ex("LIVE-URING-UNREGISTER");
            if (!ring.HasBuffers)
            {
                _result = Enxio;
                _change.Add($"ring{N(ur.Ring)}: no buffers");
                return;
            }

            Release(ring);
            _change.Add($"ring{N(ur.Ring)}: {N(_rel)} pins released");
        }

        private void CloseRing(LiveRingClose rc)
        {
            var ring = s.Rings[rc.Ring];
            if (ring.HasBuffers)
            {
                _countRules.Add("LIVE-URING-CLOSE");
                Ex("LIVE-URING-CLOSE");
                Release(ring);
            }

            s.Rings.Remove(rc.Ring);
            _change.Add($"ring{N(rc.Ring)} closed ({N(_rel)} pins released)");
        }

        private void DirectIo(LiveDirectIo d)
        {
            Ex("LIVE-DIO-PIN");
            _countRules.Add("LIVE-DIO-PIN");
            var refs = s.Profile.Dio == DioRetention.Refs || (d.Write && s.Profile.Dio == DioRetention.RefsForWrites);

            // Only a FOLL_PIN walk marks the mm (mm_set_has_pinned_flag() under "if (gup_flags & FOLL_PIN)" in
            // __get_user_pages_locked() and internal_get_user_pages_fast(), mm/gup.c of 6.1); a DIO that takes
            // references goes through iov_iter_get_pages2() with FOLL_GET (block/bio.c of 6.1) and leaves it clear.
            if (!refs)
            {
                s.HasPinned = true;
                Ex("LIVE-FORK-HAS-PINNED");
            }

            long counted = 0;
            foreach (var iov in d.Iovs)
            {
                var r = s.Regions[iov.Region];

                // GUP-fast (pin_user_pages_fast from iov_iter_extract_pages) grabs a present page before it checks
                // gup_must_unshare(); for a R/O pin of a shared anonymous page it then drops that pin again and
                // leaves the rest to the slow path: one extra acquire/release pair where its walk stops.
                if (!refs && d.Write && PagesOf(iov).Select(vp => r.Pages[vp]).FirstOrDefault(p => !(p.Kind == LivePageKind.Anon && p.Exclusive))
                    is { Kind: LivePageKind.Anon, Exclusive: false })
                {
                    counted++;
                    _countRules.Add("LIVE-DIO-FAST-UNSHARE");
                    Ex("LIVE-DIO-FAST-UNSHARE");
                }

                foreach (var vp in PagesOf(iov))
                {
                    if (refs)
                    {
                        if (d.Write)
                        {
                            ReadFault(r, vp);
                        }
                        else
                        {
                            WriteFault(r, vp);
                        }

                        continue;
                    }

                    var (page, c) = Pin(r, vp, write: !d.Write);
                    if (page.Kind == LivePageKind.Zero)
                    {
                        _countRules.Add("LIVE-DIO-ZERO-PAGE");
                    }

                    counted += c ? 1 : 0;
                }
            }

            _acq = _rel = counted;
            _result = d.Iovs.Sum(i => i.Length);
            _change.Add($"O_DIRECT {(d.Write ? "write" : "read")}: {N(counted)} pins taken and released");
        }

        private void Buffered(LiveBufferedIo b)
        {
            Ex("LIVE-BUFFERED-NO-PIN");
            _countRules.Add("LIVE-BUFFERED-NO-PIN");
            foreach (var iov in b.Iovs)
            {
                var r = s.Regions[iov.Region];
                foreach (var vp in PagesOf(iov))
                {
                    if (b.Write)
                    {
                        ReadFault(r, vp);
                    }
                    else
                    {
                        WriteFault(r, vp);
                    }
                }
            }

            _result = b.Iovs.Sum(i => i.Length);
            _change.Add($"buffered {(b.Write ? "write" : "read")}");
        }

        private void Vmsplice(LiveVmsplice v)
        {
            Ex("LIVE-GET-INVISIBLE");
            _countRules.Add("LIVE-GET-INVISIBLE");
            var pipe = s.Pipes[v.Pipe];
            foreach (var iov in v.Iovs)
            {
                var r = s.Regions[iov.Region];
                foreach (var vp in PagesOf(iov))
                {
                    ReadFault(r, vp);
                    var p = r.Pages[vp];
                    if (p.Kind == LivePageKind.Anon)
                    {
                        s.Frames[p.Frame].Refs++;
                        pipe.Used.Add(p.Frame);
                    }
                    else
                    {
                        pipe.Used.Add(-1);
                    }
                }
            }

            _result = v.Iovs.Sum(i => i.Length);
            _change.Add($"pipe{N(v.Pipe)} holds {N(pipe.Used.Count)} page references");
        }

        private void ClosePipe(LivePipeClose pc)
        {
            foreach (var f in s.Pipes[pc.Pipe].Used.Where(f => f >= 0))
            {
                s.Frames[f].Refs--;
            }

            s.Pipes.Remove(pc.Pipe);
            _countRules.Add("LIVE-GET-INVISIBLE");
            _change.Add($"pipe{N(pc.Pipe)} closed");
        }

        private void ProcessVm(LiveProcessVm p)
        {
            s.HasPinned = true;
            Ex("LIVE-FORK-HAS-PINNED");
            Ex("LIVE-PVM-PIN");
            _countRules.Add("LIVE-PVM-PIN");
            long counted = 0;
            foreach (var iov in p.Iovs)
            {
                var r = s.Regions[iov.Region];
                foreach (var vp in PagesOf(iov))
                {
                    counted += Pin(r, vp, write: p.Write).Counted ? 1 : 0;
                }
            }

            _acq = _rel = counted;
            _result = p.Iovs.Sum(i => i.Length);
            _change.Add($"process_vm_{(p.Write ? "writev" : "readv")}: {N(counted)} pins");
        }

        /// <summary>References a small page holds at fork's maybe-pinned check besides the plain ones: its mapping, and
        /// fork's own reference in eras that take it before the check.</summary>
        private int FixedRefsAtForkCheck => s.Profile.ForkTakesRefBeforeCheck ? 2 : 1;

        /// <summary>copy_page_range(): per page, copy or share; shared anonymous pages lose PG_anon_exclusive.</summary>
        private void Fork(bool report)
        {
            _countRules.Add("LIVE-FORK-SHARE");
            foreach (var r in s.Regions.Values.OrderBy(r => r.Id))
            {
                var map = new char[r.Pages.Length];
                for (var i = 0; i < r.Pages.Length; i++)
                {
                    var p = r.Pages[i];
                    if (p.Kind == LivePageKind.Untouched || !r.AnonVma)
                    {
                        map[i] = '-';
                        continue;
                    }

                    if (p.Kind == LivePageKind.Zero)
                    {
                        map[i] = 'S';
                        continue;
                    }

                    var f = s.Frames[p.Frame];

                    // The refcount at the check: the mapping, the plain references, and fork's own reference where the
                    // era takes it before asking page_needs_cow_for_dma() (copy_present_pte(): get_page() comes first in
                    // 6.1's mm/memory.c; 5.15 checks before it takes one), as the threshold search assumes too.
                    var maybePinned = f.Large ? f.Pins > 0 : (1024L * f.Pins) + f.Refs + FixedRefsAtForkCheck >= 1024;
                    var copy = p.Exclusive && s.HasPinned && maybePinned;
                    if (copy)
                    {
                        map[i] = 'C';
                        Ex(f.Large ? "LIVE-FORK-LARGE-WHOLE" : "LIVE-FORK-COPY-PINNED");
                    }
                    else
                    {
                        map[i] = 'S';
                        Ex(maybePinned && !s.HasPinned ? "LIVE-FORK-HAS-PINNED" : "LIVE-FORK-SHARE");
                        r.Pages[i] = p with { Exclusive = false };
                    }
                }

                if (report)
                {
                    Check($"fork.r{N(r.Id)}", [LiveState.Rle(map)], "LIVE-FORK-COPY-PINNED", "LIVE-FORK-SHARE", "LIVE-FORK-LARGE-WHOLE", "LIVE-FORK-HAS-PINNED");
                }
            }

            _change.Add(s.HasPinned ? "forked (MMF_HAS_PINNED set)" : "forked (MMF_HAS_PINNED clear: everything shared)");
        }

        private void Threshold(bool inChild)
        {
            Fork(report: false);
            Ex("LIVE-FORK-BIAS-THRESHOLD");
            string[] allowed;
            if (inChild || !s.HasPinned)
            {
                // MMF_HAS_PINNED is never inherited: a child's mm has not pinned.
                allowed = ["none"];
                Ex("LIVE-FORK-HAS-PINNED");
            }
            else
            {
                // Copy iff refs at the check >= 1024: 1 (mapping) + [1 fork's own ref] + k + b, b = 1 while in the lru_add batch.
                var fixedRefs = FixedRefsAtForkCheck;
                allowed = [$"k{N(1024 - fixedRefs)},lru1", $"k{N(1024 - fixedRefs - 1)},lru0"];
            }

            Check("threshold", allowed, "LIVE-FORK-BIAS-THRESHOLD", "LIVE-FORK-HAS-PINNED");
            _change.Add($"threshold expected at {string.Join(" or ", allowed)}");
        }
    }
}
