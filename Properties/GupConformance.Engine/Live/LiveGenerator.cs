using GupConformance.Oracles.Live;
using GupConformance.Spec.Live;

namespace GupConformance.Engine.Live;

/// <summary>
/// State-aware generator of live command sequences: proposes commands from the model's state (live regions, rings,
/// pipes) and keeps only those the model accepts, so every generated sequence is valid.
/// </summary>
public sealed class LiveGenerator(LiveProfile profile, LiveEnvironment environment)
{
    private const long Page = 4096;

    public LiveCommand[] Generate(Prng rng, int length, bool allowThreshold)
    {
        var state = LiveModel.Init(profile, environment);
        var list = new List<LiveCommand>();
        var thresholdUsed = !allowThreshold;
        var attempts = 0;
        while (list.Count < length && attempts++ < length * 50)
        {
            var cmd = Propose(rng, state, thresholdUsed);
            if (cmd is null || LiveModel.Precondition(state, cmd) is not null)
            {
                continue;
            }

            thresholdUsed |= cmd is LiveThreshold;
            state = LiveModel.Step(state, cmd).Next;
            list.Add(cmd);
        }

        return [.. list];
    }

    private LiveCommand? Propose(Prng rng, LiveState s, bool thresholdUsed)
    {
        var regions = s.Regions.Keys.Order().ToList();
        var smalls = s.Regions.Values.Where(r => r.Kind == LiveRegionKind.Small).Select(r => r.Id).Order().ToList();
        var rings = s.Rings.Keys.Order().ToList();
        var pipes = s.Pipes.Keys.Order().ToList();
        var options = new List<(Func<LiveCommand?> Make, int Weight)>
        {
            (() => Map(rng, s), regions.Count < 3 ? 40 : regions.Count < LiveModel.MaxRegions ? 6 : 0),
            (() => smalls.Count > 0 ? Touch(rng, s, rng.Pick(smalls)) : null, smalls.Count > 0 ? 14 : 0),
            (() => new LiveUnmap(rng.Pick(regions)), regions.Count > 0 ? 3 : 0),
            (() => new LiveRingSetup(FreeId(rng, s.Rings.Keys, 16)), rings.Count < LiveModel.MaxRings ? (rings.Count == 0 ? 20 : 4) : 0),
            (() => new LiveRingClose(rng.Pick(rings)), rings.Count > 0 ? 3 : 0),
            (() => new LiveRegister(rng.Pick(rings), Iovs(rng, s, forRegister: true, align512: false, maxBytes: LiveModel.MaxRegisterBytes)), rings.Count > 0 && regions.Count > 0 ? 16 : 0),
            (() => new LiveUnregister(rng.Pick(rings)), rings.Count > 0 ? 8 : 0),
            (() => new LiveDirectIo(rng.Chance(50), Iovs(rng, s, forRegister: false, align512: true, maxBytes: LiveModel.MaxIoBytes)), regions.Count > 0 ? 14 : 0),
            (() => new LiveBufferedIo(rng.Chance(50), Iovs(rng, s, forRegister: false, align512: false, maxBytes: LiveModel.MaxIoBytes)), regions.Count > 0 ? 5 : 0),
            (() => new LiveProcessVm(rng.Chance(50), Iovs(rng, s, forRegister: false, align512: false, maxBytes: LiveModel.MaxIoBytes)), regions.Count > 0 ? 7 : 0),
            (() => new LivePipeOpen(FreeId(rng, s.Pipes.Keys, 16), rng.Pick([16, 16, 64, 256])), pipes.Count < LiveModel.MaxPipes ? 4 : 0),
            (() => Vmsplice(rng, s, pipes), pipes.Count > 0 && regions.Count > 0 ? 9 : 0),
            (() => new LivePipeClose(rng.Pick(pipes)), pipes.Count > 0 ? 3 : 0),
            (() => new LiveFork(), regions.Count > 0 ? 7 : 0),
            (() => new LiveThreshold(InChild: rng.Chance(25)), thresholdUsed ? 0 : 1),
            (() => new LiveInspect(rng.Pick(regions)), regions.Count > 0 ? 2 : 0),
        };
        var make = rng.Weighted(options);
        return make?.Invoke();
    }

    private static int FreeId(Prng rng, IEnumerable<int> used, int max)
    {
        var set = used.ToHashSet();
        var free = Enumerable.Range(0, max).Where(i => !set.Contains(i)).ToList();
        return free.Count == 0 ? 0 : rng.Pick(free);
    }

    private LiveCommand? Map(Prng rng, LiveState s)
    {
        var id = FreeId(rng, s.Regions.Keys, 64);
        var kinds = new List<(LiveRegionKind, int)> { (LiveRegionKind.Small, 50) };
        if (environment.HasThp)
        {
            kinds.Add((LiveRegionKind.Thp, 14));
        }

        if (environment.HasMthp64)
        {
            kinds.Add((LiveRegionKind.Mthp64, 16));
        }

        if (environment.HasHugetlb)
        {
            kinds.Add((LiveRegionKind.Hugetlb, 8));
        }

        var kind = rng.Weighted(kinds);
        var pages = kind switch
        {
            LiveRegionKind.Small => rng.Range(1, 32),
            LiveRegionKind.Mthp64 => 16 * rng.Range(1, 8),
            _ => rng.Chance(70) ? 512 : 1024,
        };
        return new LiveMap(id, kind, pages);
    }

    private static LiveTouch? Touch(Prng rng, LiveState s, int region)
    {
        var r = s.Regions[region];
        var first = rng.Range(0, r.Pages.Length - 1);
        var count = rng.Range(1, Math.Min(8, r.Pages.Length - first));
        return new LiveTouch(region, first, count, rng.Chance(55));
    }

    private static LiveVmsplice? Vmsplice(Prng rng, LiveState s, List<int> pipes)
    {
        var pipe = rng.Pick(pipes);
        var free = s.Pipes[pipe].Slots - s.Pipes[pipe].Used.Count;
        if (free <= 0)
        {
            return null;
        }

        var iovs = new List<LiveIov>();
        var n = rng.Range(1, Math.Min(LiveModel.MaxIovs, free));
        var regions = s.Regions.Keys.Order().ToList();
        for (var i = 0; i < n && free > 0; i++)
        {
            var r = s.Regions[rng.Pick(regions)];
            var pages = rng.Range(1, Math.Min(free, 8));
            var first = rng.Range(0, r.Pages.Length - 1);
            pages = Math.Min(pages, r.Pages.Length - first);
            var sub = rng.Chance(30) ? rng.Range(1, 4095) : 0;
            var len = Math.Max(1, (pages * Page) - sub - (rng.Chance(30) ? rng.Range(0, 4000) : 0));
            var iov = new LiveIov(r.Id, (first * Page) + sub, len);
            var used = LiveModel.PagesOf(iov).Count();
            if (used > free)
            {
                continue;
            }

            free -= used;
            iovs.Add(iov);
        }

        return iovs.Count == 0 ? null : new LiveVmsplice(pipe, iovs);
    }

    private static List<LiveIov> Iovs(Prng rng, LiveState s, bool forRegister, bool align512, long maxBytes)
    {
        var regions = s.Regions.Keys.Order().ToList();
        var n = rng.Chance(60) ? 1 : rng.Range(2, LiveModel.MaxIovs);
        var iovs = new List<LiveIov>();
        long total = 0;
        for (var i = 0; i < n; i++)
        {
            if (forRegister && rng.Chance(4))
            {
                iovs.Add(new LiveIov(-1, rng.Range(0, 8) * Page, rng.Range(1, 4) * Page));
                continue;
            }

            var r = s.Regions[rng.Pick(regions)];
            var large = r.Kind != LiveRegionKind.Small;
            var first = rng.Chance(30) && large ? (rng.Range(0, (r.Pages.Length / LiveModel.FolioPages(r.Kind)) - 1) * LiveModel.FolioPages(r.Kind)) : rng.Range(0, r.Pages.Length - 1);
            var maxPages = large ? rng.Pick([1, 3, 16, 40, 300, 1024]) : 16;
            var pages = rng.Range(1, Math.Min(maxPages, r.Pages.Length - first));
            var unit = align512 ? 512 : rng.Chance(50) ? 512 : 1;
            var sub = rng.Chance(30) ? rng.Range(0, (int)(Page / unit) - 1) * unit : 0;
            var trim = rng.Chance(30) ? rng.Range(0, (int)(Page / unit) - 1) * unit : 0;
            var len = Math.Max(unit, (pages * Page) - sub - trim);
            if (forRegister && rng.Chance(5))
            {
                len = ((r.Pages.Length - first) * Page) - sub + rng.Range(1, 2 * (int)Page - 1);
            }

            if (total + len > maxBytes)
            {
                break;
            }

            total += len;
            iovs.Add(new LiveIov(r.Id, (first * Page) + sub, len));
        }

        return iovs;
    }
}
