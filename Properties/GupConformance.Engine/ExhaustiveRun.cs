using System.Diagnostics;
using System.Globalization;
using System.Text;
using GupConformance.Engine.Coverage;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>One failing sequence the exhaustive search found (the first in breadth-first order for its failure).</summary>
public sealed record ExhaustiveFailure(IReadOnlyList<Command> Commands, int Depth, SequenceStatus Status, IReadOnlyList<string> ViolatedRules, string? Message, string? FailedCommand);

/// <summary>The counts of one depth of the search.</summary>
public sealed record ExhaustiveLevel(int Depth, long Sequences, long DistinctStates, long Failing);

/// <summary>What an exhaustive search found.</summary>
public sealed record ExhaustiveResult(
    Profile Profile,
    string Implementation,
    int Depth,
    IReadOnlyList<Command> Setup,
    int Alphabet,
    int Refusals,
    IReadOnlyList<ExhaustiveLevel> Levels,
    IReadOnlyList<ExhaustiveFailure> Failures,
    TimeSpan Elapsed)
{
    public long Sequences => Levels.Sum(l => l.Sequences);

    public long DistinctStates => Levels.Sum(l => l.DistinctStates);

    public bool Passed => Failures.Count == 0;
}

/// <summary>
/// Small-scope exhaustive checking (<c>--exhaustive N</c>): after a fixed set-up (a few regions of chosen kinds, orders
/// and start refcounts, by the facets), every sequence of up to N actions over a bounded alphabet — every entry point
/// of the era at a few starts and lengths with and without FOLL_WRITE / FOLL_LONGTERM, every release function with and
/// without make_dirty on every live array, folio_add_pin(), and the consumers (iterators, extraction, bios, frame vectors,
/// netfs) — is run against the implementation and checked, breadth first. Sequences that reach a model state already
/// seen (the canonical <see cref="ModelState.Describe"/>) are checked but not extended. The refused flag combinations of
/// every entry point (<see cref="EdgeCases.Targets"/>) change nothing, so each is checked once, right after the set-up.
/// A failing sequence is not extended either; the first one of each failure is reported, already minimal for this
/// alphabet. Runs on every core; the result does not depend on how many.
/// </summary>
public static class ExhaustiveRun
{
    private const long Page = Sizes.PageSize;

    public static ExhaustiveResult Run(IImplementationFactory factory, Profile profile, int depth, TimeSpan? timeout = null, string? implementationId = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(profile);
        var manifest = factory.ManifestFor(profile)
            ?? throw new ArgumentException($"implementation '{factory.Name}' does not claim profile '{profile.Id}'", nameof(profile));
        var facets = manifest.Facets & profile.Facets;
        var limit = timeout ?? TimeSpan.FromMilliseconds(RunOptions.DefaultTimeoutMs);
        var clock = Stopwatch.StartNew();
        var setup = Setup(profile, facets);
        var start = GupModel.Init(profile);
        foreach (var c in setup)
        {
            start = GupModel.Step(start, c).Next;
        }

        var executors = new ThreadLocal<SequenceExecutor>(() => new SequenceExecutor(factory, profile, facets, limit), trackAllValues: true);
        try
        {
            var failures = new List<ExhaustiveFailure>();
            var signatures = new HashSet<string>(StringComparer.Ordinal);
            var levels = new List<ExhaustiveLevel>();
            var seen = new HashSet<string>(StringComparer.Ordinal) { Key(start) };

            // Depth 0: the set-up itself, then every refused flag combination once after it.
            var refusals = EdgeCases.Targets(profile, facets).Where(t => t.Family == EdgeFamily.RefusedFlags).ToList();
            List<IReadOnlyList<Command>> initial = [setup, .. refusals.Select(t => (IReadOnlyList<Command>)[.. setup, Refused(t, setup.Count + 1)])];
            var first = Check(executors, initial);
            levels.Add(new ExhaustiveLevel(0, first.Count, 1, Collect(first, initial, 0, failures, signatures)));
            if (!first[0].Passed)
            {
                // The set-up itself fails: nothing beyond it is meaningful.
                return new ExhaustiveResult(profile, implementationId ?? factory.Name, depth, setup, 0, refusals.Count, levels, failures, clock.Elapsed);
            }

            var frontier = new List<(ModelState State, List<Command> Path)> { (start, []) };
            var alphabet = 0;
            for (var d = 1; d <= depth && frontier.Count > 0; d++)
            {
                var edges = new List<(ModelState State, List<Command> Path, Command Action)>();
                foreach (var (state, path) in frontier)
                {
                    var actions = Alphabet(state, profile, facets, setup.Count + path.Count + 1);
                    alphabet = Math.Max(alphabet, actions.Count);
                    edges.AddRange(actions.Select(a => (state, path, a)));
                }

                var sequences = edges.Select(e => (IReadOnlyList<Command>)[.. setup, .. e.Path, e.Action]).ToList();
                var results = Check(executors, sequences);
                var failing = Collect(results, sequences, d, failures, signatures);
                var next = new List<(ModelState, List<Command>)>();
                for (var i = 0; i < edges.Count; i++)
                {
                    if (!results[i].Passed)
                    {
                        continue;
                    }

                    var after = GupModel.Step(edges[i].State, edges[i].Action).Next;
                    if (seen.Add(Key(after)))
                    {
                        next.Add((after, [.. edges[i].Path, edges[i].Action]));
                    }
                }

                levels.Add(new ExhaustiveLevel(d, edges.Count, next.Count, failing));
                frontier = next;
            }

            return new ExhaustiveResult(profile, implementationId ?? factory.Name, depth, setup, alphabet, refusals.Count, levels, failures, clock.Elapsed);
        }
        finally
        {
            foreach (var x in executors.Values)
            {
                x.Dispose();
            }

            executors.Dispose();
        }
    }

    /// <summary>The report: per depth the sequences checked and the new distinct states, then every failure.</summary>
    public static string Render(ExhaustiveResult r)
    {
        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Exhaustive check of {r.Implementation} under {r.Profile.Id}: every sequence of up to {N(r.Depth)} actions after a set-up of {N(r.Setup.Count)} regions\n");
        sb.Append(CultureInfo.InvariantCulture, $"Alphabet: up to {N(r.Alphabet)} actions per state; {N(r.Refusals)} refused flag combinations checked once after the set-up\n");
        sb.Append("Set-up: ").Append(string.Join("; ", r.Setup.Select(c => CommandText.Render(c, r.Profile)))).Append('\n');
        sb.Append("Depth  Sequences  New distinct states  Failing\n");
        foreach (var l in r.Levels)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{l.Depth,5}  {l.Sequences,9}  {l.DistinctStates,19}  {l.Failing,7}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"Total: {N(r.Sequences)} sequences checked, {N(r.DistinctStates)} distinct model states\n");
        foreach (var f in r.Failures)
        {
            var why = f.ViolatedRules.Count > 0 ? string.Join(", ", f.ViolatedRules) : $"{f.Status}: {f.Message}";
            sb.Append(CultureInfo.InvariantCulture, $"FAIL at depth {N(f.Depth)} ({why}):\n");
            foreach (var c in f.Commands.Skip(r.Setup.Count))
            {
                sb.Append("  ").Append(CommandText.Render(c, r.Profile)).Append('\n');
            }
        }

        sb.Append(r.Passed ? "Verdict: no failure within this scope\n" : $"Verdict: {N(r.Failures.Count)} distinct failure(s)\n");
        return sb.ToString();
    }

    /// <summary>The regions every sequence starts from: small, large (order 1 and a crossing one), the bias and overflow neighbourhoods, zero page, file, VM_IO.</summary>
    public static IReadOnlyList<Command> Setup(Profile p, Facet f)
    {
        var list = new List<Command>();
        var addr = SequenceGenerator.BaseAddress;
        void Map(RegionKind kind, int folios, int order = 0, int refcount = 1)
        {
            var m = new MapRegion(list.Count + 1, kind, addr, folios, order, refcount);
            if ((m.Needs & f) != 0)
            {
                list.Add(m);
                addr = m.End + (ulong)Page;
            }
        }

        Map(RegionKind.Anon, 2);
        Map(RegionKind.Anon, 2, 1);
        Map(RegionKind.Anon, 1, 0, Sizes.GupPinCountingBias - 1);
        Map(RegionKind.Anon, 1, 0, int.MaxValue - 1);
        Map(RegionKind.Zero, 2);
        Map(RegionKind.File, 1);
        Map(RegionKind.Io, 1);
        return list;
    }

    private static Gup Refused(EdgeTarget t, int call) =>
        new(call, t.Entry!.Value, t.Overflow ? unchecked(0UL - (ulong)Page) : SequenceGenerator.BaseAddress, t.Overflow ? 2 : 1, t.Flags, t.WithPages);

    /// <summary>The actions valid in <paramref name="s"/>; new ids start at <paramref name="id"/> (unique in the sequence).</summary>
    private static List<Command> Alphabet(ModelState s, Profile p, Facet f, int id)
    {
        var all = new List<Command>();
        var regions = s.Regions;
        var starts = new List<(ulong Start, long Nr)>();
        foreach (var r in regions)
        {
            starts.Add((r.Start, 1));
            if (r.Order > 0)
            {
                // From the last page of the first folio into the next one.
                starts.Add((r.Start + (ulong)((((1L << r.Order) - 1)) * Page), 2));
            }
            else if (r.Folios > 1)
            {
                starts.Add((r.Start, 2));
            }
        }

        foreach (var e in p.EntryPoints)
        {
            var flagSets = e.IsPin() && p.Flags.Exists(Foll.LongTerm)
                ? new[] { Foll.None, Foll.Write, Foll.LongTerm, Foll.LongTerm | Foll.Write }
                : [Foll.None, Foll.Write];
            foreach (var (start, nr) in starts)
            {
                foreach (var flags in flagSets)
                {
                    all.Add(new Gup(id, e, start, nr, flags));
                }
            }
        }

        foreach (var (call, runs) in s.Arrays)
        {
            var total = runs.Sum(r => r.Count);
            var held = runs.Any(r => r.Hold != Hold.None && !r.Released);
            if (!held || total > int.MaxValue)
            {
                continue;
            }

            foreach (var fn in Enum.GetValues<ReleaseFn>())
            {
                foreach (var count in total > 1 ? new[] { 1, (int)total } : [1])
                {
                    foreach (var dirty in fn is ReleaseFn.UnpinUserPagesDirtyLock or ReleaseFn.UnpinUserPageRangeDirtyLock ? new[] { false, true } : [false])
                    {
                        all.Add(new Release(call, fn, 0, count, dirty));
                    }
                }
            }

            all.Add(new FolioAddPin(id, call, 0));
        }

        var user = regions.FirstOrDefault(r => r.Kind == RegionKind.Anon);
        if (user is not null)
        {
            foreach (var kind in EdgeCases.IterKinds(p, f))
            {
                foreach (var dir in new[] { IterDir.Source, IterDir.Dest })
                {
                    IReadOnlyList<IterSeg> segs = kind switch
                    {
                        IterKind.Iovec => [new IterSeg(user.Start, 0), new IterSeg(user.Start + 512, 1024)],
                        IterKind.Kvec => [new IterSeg(user.Start, 0), new IterSeg(user.Start, 2 * Page)],
                        IterKind.Discard => [new IterSeg(0, Page)],
                        _ => [new IterSeg(user.Start + 512, Page)],
                    };
                    all.Add(new IterInit(id, kind, dir, segs));
                }
            }
        }

        foreach (var it in s.Iters.Where(i => i.Count > 0))
        {
            all.Add(new IterExtract(id, it.Iter, Page, 4));
            all.Add(new BioAdd(id, it.Iter, 4));
            all.Add(new NetfsExtract(id, it.Iter, it.Count));
        }

        foreach (var b in s.Bios)
        {
            all.Add(new BioRelease(b, false));
            all.Add(new BioRelease(b, true));
        }

        all.Add(new FvCreate(id, 4));
        foreach (var fv in s.FrameVectors)
        {
            if (fv.NrFrames == 0)
            {
                foreach (var r in regions.Where(r => r.Kind is RegionKind.Anon or RegionKind.Io).Take(2))
                {
                    all.Add(new FvGet(fv.Fv, r.Start, 2, true));
                }
            }
            else
            {
                all.Add(new FvPut(fv.Fv));
            }
        }

        foreach (var n in s.NetfsRequests)
        {
            all.Add(new NetfsFree(n));
        }

        return [.. all.Where(c => (c.Needs & f) != 0 && GupModel.Precondition(s, c) is null)];
    }

    private static string Key(ModelState s) => string.Join('\n', s.Describe().Select(kv => kv.Key + "=" + kv.Value));

    private static List<SequenceResult> Check(ThreadLocal<SequenceExecutor> executors, IReadOnlyList<IReadOnlyList<Command>> sequences)
    {
        var results = new SequenceResult[sequences.Count];
        Parallel.For(0, sequences.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => results[i] = executors.Value!.Execute(sequences[i]));
        return [.. results];
    }

    /// <summary>Keeps the first failing sequence of each failure (in order); returns how many failed.</summary>
    private static long Collect(IReadOnlyList<SequenceResult> results, IReadOnlyList<IReadOnlyList<Command>> sequences, int depth, List<ExhaustiveFailure> failures, HashSet<string> signatures)
    {
        long failing = 0;
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            if (r.Passed)
            {
                continue;
            }

            failing++;
            var signature = r.Status == SequenceStatus.Diverged ? string.Join(",", r.ViolatedRules) : $"{r.Status}:{r.ExceptionType}";
            if (signatures.Add(signature))
            {
                failures.Add(new ExhaustiveFailure(sequences[i], depth, r.Status, r.ViolatedRules, r.Message, r.FailedCommand));
            }
        }

        return failing;
    }
}
