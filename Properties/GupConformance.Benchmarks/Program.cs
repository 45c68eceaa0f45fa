using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// What the checking costs, measured side by side in one process (every figure best of <c>--repeat</c> runs, figures
/// that are compared timed in turn in <c>--repeat</c> rounds, with the load average printed beside them, because this
/// machine is shared):
/// <list type="number">
/// <item>The engine's overhead: one command stream (a default run, seed 1) recorded once and replayed three ways — the
/// implementation alone, the model alone (Precondition + Step), and the checked run (<see cref="ConformanceRun.Run"/>,
/// generation and everything included) — for the in-process reference (all facets), and on the Core + LargeFolios +
/// ZeroPage stream for the in-process reference, the C implementation through the native host and the Python process
/// implementation, both batched. The ratio is checked / (model alone + implementation alone).</item>
/// <item>The cost of one action on an order-0 and on an order-18 folio (a pin of the whole folio and its unpin).</item>
/// <item>Operations checked per second against the in-process figure, out-of-process with and without batching.</item>
/// </list>
/// <code>dotnet run --project Properties/GupConformance.Benchmarks -c Release -- [--sequences N] [--profile ID] [--repeat N] [--skip-unbatched]</code>
/// Table 4 alone: <c>-- --kill-matrix SEEDS [--bug NAME] [--shrink-attempts N]</c> (<see cref="KillTiming"/>); table 5 alone, trace replay against
/// trace length: <c>-- --replay-scaling [--lengths 2500,5000,10000,20000] [--write-traces DIR]</c> (<see cref="ReplayScaling"/>).
/// </summary>
public static class Program
{
    private const Facet ProcessFacets = Facet.Core | Facet.LargeFolios | Facet.ZeroPage;

    public static int Main(string[] args)
    {
        // A real kernel in QEMU (Fixtures/Kernel): build time, boot time, commands per second (KernelBenchmark).
        if (args.Contains("--kernel", StringComparer.Ordinal))
        {
            return KernelBenchmark.Run(args);
        }

        var sequences = RunOptions.DefaultSequences;
        var profile = Profiles.Default;
        var repeat = 5;
        var unbatched = true;
        var native = false;
        var modelOnly = 0;
        var checkedOnly = 0;
        var executionOnly = 0;
        var restricted = false;
        var killSeeds = 0;
        string? killOnly = null;
        int? shrinkAttempts = null;
        var replayScaling = false;
        IReadOnlyList<int> replayLengths = ReplayScaling.DefaultLengths;
        string? traceDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sequences" when i + 1 < args.Length:
                    sequences = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--profile" when i + 1 < args.Length:
                    profile = Profiles.Get(args[++i]);
                    break;
                case "--repeat" when i + 1 < args.Length:
                    repeat = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--model-only" when i + 1 < args.Length:
                    // For a profiler: replay the recorded stream through the model this many times, and nothing else.
                    modelOnly = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--checked-only" when i + 1 < args.Length:
                    // For a profiler: the checked run of the default stream (in-process reference), this many times.
                    checkedOnly = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--execution-only" when i + 1 < args.Length:
                    // For a profiler: the checking thread's part alone (see ExecutionAlone), this many times.
                    executionOnly = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--restricted":
                    // With --model-only / --checked-only: the Core + LargeFolios + ZeroPage stream of table 1's last rows.
                    restricted = true;
                    break;
                case "--native":
                    // With --model-only / --checked-only / --execution-only: the C implementation through the native host
                    // (batched) instead of the in-process reference, on the stream of its facets (implies --restricted).
                    native = true;
                    restricted = true;
                    break;
                case "--kill-matrix" when i + 1 < args.Length:
                    // Only table 4: the kill matrix's runs with this many seeds per bug.
                    killSeeds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--bug" when i + 1 < args.Length:
                    killOnly = args[++i];
                    break;
                case "--shrink-attempts" when i + 1 < args.Length:
                    // With --kill-matrix: RunOptions.ShrinkAttempts (what refining the first counterexample buys and costs).
                    shrinkAttempts = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--replay-scaling":
                    // Only table 5: trace replay time against trace length (issue 16).
                    replayScaling = true;
                    break;
                case "--lengths" when i + 1 < args.Length:
                    replayLengths = [.. args[++i].Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))];
                    break;
                case "--write-traces" when i + 1 < args.Length:
                    // Keep the generated traces there (e.g. to time the runner's --replay on them).
                    traceDir = args[++i];
                    break;
                case "--skip-unbatched":
                    unbatched = false;
                    break;
                default:
                    Console.Error.WriteLine($"usage: GupConformance.Benchmarks [--sequences N] [--profile ID] [--repeat N] [--skip-unbatched] [--model-only N] [--checked-only N] [--execution-only N] [--restricted] [--native] [--kill-matrix SEEDS [--bug NAME] [--shrink-attempts N]] [--replay-scaling [--lengths N,N,...] [--write-traces DIR]] [--kernel ...] (unknown option {args[i]})");
                    return 2;
            }
        }

        var options = new RunOptions { Sequences = sequences };
        if (restricted && modelOnly == 0 && checkedOnly == 0 && executionOnly == 0)
        {
            // The tables choose their own streams and implementations: the switch would change nothing there.
            Console.Error.WriteLine($"{(native ? "--native" : "--restricted")} applies only with --model-only, --checked-only or --execution-only");
            return 2;
        }

        if (native && !File.Exists(PluginResolver.NativeHostPath))
        {
            Console.Error.WriteLine($"--native: the native host {PluginResolver.NativeHostPath} was not built (gcc was missing when the benchmark was built); install gcc and build again");
            return 2;
        }

        using var nativeHost = native ? PluginResolver.Start("native:bundled") : null;
        Func<IImplementationFactory> reference = nativeHost is not null ? () => nativeHost
            : restricted ? () => new Restricted(new KernelStyleFactory()) : () => new KernelStyleFactory();
        var facets = restricted ? profile.Facets & ProcessFacets : profile.Facets;
        if (killSeeds > 0)
        {
            KillTiming.Print(killSeeds, killOnly, shrinkAttempts);
            return 0;
        }

        if (checkedOnly > 0)
        {
            var c = Best(checkedOnly, () => ConformanceRun.Run(reference(), profile, options).CommandsExecuted);
            var (cpu, mean, meanCpu) = (LastBestCpu, LastMean, LastMeanCpu);

            // Allocation and collections of one more run (Best's warm-up runs vary in number).
            var (g0, g1, g2, bytes) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalAllocatedBytes(precise: true));
            var paused = GC.GetTotalPauseDuration();
            ConformanceRun.Run(reference(), profile, options);
            paused = GC.GetTotalPauseDuration() - paused;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"checked run: best {Ms(c):F1} ms wall, best CPU {Ms(cpu):F1} ms, mean {Ms(mean):F1} ms wall, mean CPU {Ms(meanCpu):F1} ms, load {Load()}; one run: {(GC.GetTotalAllocatedBytes(precise: true) - bytes) / 1e6:F0} MB allocated, GCs gen0 {GC.CollectionCount(0) - g0} gen1 {GC.CollectionCount(1) - g1} gen2 {GC.CollectionCount(2) - g2}, paused {paused.TotalMilliseconds:F1} ms"));
            Console.WriteLine(WarmUpNote());
            return 0;
        }

        if (executionOnly > 0)
        {
            var (seconds, bytes) = ExecutionAlone(reference, profile, facets, options, executionOnly);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"execution alone: best {Ms(seconds):F1} ms wall, {bytes / 1e6:F1} MB allocated, load {Load()}"));
            return 0;
        }

        if (replayScaling)
        {
            ReplayScaling.Print(profile, replayLengths, traceDir);
            return 0;
        }

        if (modelOnly > 0)
        {
            var stream = RecordedStream.Record(reference(), profile, options);
            var s = Best(modelOnly, () => stream.ReplayModel());
            var cpuBest = LastBestCpu;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            stream.ReplayModel();
            var modelBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            before = GC.GetTotalAllocatedBytes(precise: true);
            stream.ReplayImplementation(reference());
            var implBytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model alone: {stream.Commands} commands, best {Ms(s):F1} ms wall, {stream.Commands / s:F0}/s, best CPU {Ms(cpuBest):F1} ms, load {Load()}; one replay: {modelBytes / 1e6:F0} MB allocated (the implementation alone: {implBytes / 1e6:F0} MB)"));
            var g = Best(modelOnly, () =>
            {
                var generator = Steered(profile, facets);
                long made = 0;
                for (var i = 0; i < options.Sequences; i++)
                {
                    made += generator.Generate(Engine.Prng.Derive(options.Seed, (ulong)i), options.Length).Length;
                }

                return made;
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generation alone: {options.Sequences} sequences, best {Ms(g):F1} ms wall, best CPU {Ms(LastBestCpu):F1} ms"));
            var (execution, executionBytes) = ExecutionAlone(reference, profile, facets, options, modelOnly);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"execution alone (the checking thread's part: implementation, inspections, comparison, on the generator's outcomes): best {Ms(execution):F1} ms wall, {executionBytes / 1e6:F1} MB allocated, load {Load()}"));
            using (var executor = new SequenceExecutor(reference(), profile, profile.Facets, options.CommandTimeout))
            {
                var empty = Best(modelOnly, () =>
                {
                    for (var i = 0; i < 1000; i++)
                    {
                        executor.Execute([]);
                    }

                    return 1000;
                });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"guarded empty sequence (create, dispose, two thread switches): {empty * 1000:F1} us each, load {Load()}"));
            }

            foreach (var (kind, n, ms) in stream.ModelCostByKind())
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {kind,-16} {n,7} commands {ms,8:F1} ms {ms * 1000 / n,8:F2} us each"));
            }
            return 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"GupConformance benchmark: profile {profile.Id}, {sequences} sequences x {options.Length} actions, seed {options.Seed}, best of {repeat}, {Environment.ProcessorCount} CPU(s), {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, load {Load()}"));

        var python = "process:python3 " + Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py");
        var nativeBuilt = File.Exists(PluginResolver.NativeHostPath);
        var inProcessRate = Overhead(profile, options, repeat, python, nativeBuilt);
        ActionCost.Print(profile, repeat);
        if (unbatched)
        {
            Paths(profile, options, python, nativeBuilt, inProcessRate);
        }

        Console.WriteLine();
        Console.WriteLine(WarmUpNote());
        return 0;
    }

    /// <summary>Table 1: implementation alone, model alone, checked run on one recorded stream per path. Returns the in-process checked rate on the restricted stream.</summary>
    private static double Overhead(Profile profile, RunOptions options, int repeat, string python, bool native)
    {
        Console.WriteLine();
        Console.WriteLine("1. The engine's overhead on one recorded stream (checked run / (model alone + implementation alone); target <= 1.25; ratio of the best times; rounds, the median of each round's ratio; range, the lowest and highest round's)");
        Console.WriteLine($"{"Stream / implementation",-38} {"commands",8} {"impl ms",8} {"impl/s",10} {"model ms",9} {"model/s",10} {"checked ms",10} {"checked/s",10} {"ratio",6} {"rounds",6} {"range",11}  load");

        var full = RecordedStream.Record(new KernelStyleFactory(), profile, options);
        Row("all facets / C# reference, in-process", full, new KernelStyleFactory(), options, repeat);

        var restricted = RecordedStream.Record(new Restricted(new KernelStyleFactory()), profile, options);
        var rate = Row("core+large+zero / C# reference", restricted, new Restricted(new KernelStyleFactory()), options, repeat);
        if (native)
        {
            using var f = PluginResolver.Start("native:bundled");
            Row("core+large+zero / C native, batched", restricted, f, options, repeat);
        }
        else
        {
            Console.WriteLine("core+large+zero / C native: skipped (the native host was not built: gcc missing)");
        }

        using (var f = PluginResolver.Start(python))
        {
            Row("core+large+zero / Python, batched", restricted, f, options, repeat);
        }

        return rate;
    }

    private static double Row(string name, RecordedStream stream, IImplementationFactory factory, RunOptions options, int repeat)
    {
        var n = stream.Commands;
        long checkedCommands = 0;
        var (impl, model, check, ratio, low, high) = Interleaved(
            repeat,
            () => stream.ReplayImplementation(factory),
            () => stream.ReplayModel(),
            () =>
            {
                var r = ConformanceRun.Run(factory, stream.Profile, options);
                checkedCommands = r.CommandsExecuted;
                return r.CommandsExecuted;
            });
        var same = checkedCommands == n ? string.Empty : $"  (checked run sent {checkedCommands} commands)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-38} {n,8} {Ms(impl),8:F1} {n / impl,10:F0} {Ms(model),9:F1} {n / model,10:F0} {Ms(check),10:F1} {n / check,10:F0} {check / (model + impl),6:F2} {ratio,6:F2} {Range(low, high),11}  {Load()}{same}"));
        return n / check;
    }

    /// <summary>Table 3: the checked run of every path against the in-process figure, with and without batching.</summary>
    private static void Paths(Profile profile, RunOptions options, string python, bool native, double inProcessRate)
    {
        Console.WriteLine();
        Console.WriteLine("3. Checked runs per path (core+large+zero stream), against the in-process checked run");
        Console.WriteLine($"{"Implementation",-28} {"commands",10} {"seconds",8} {"ops/s",10} {"seq/s",8} {"vs in-process",14}  load");
        var cases = new List<(string Name, Func<IImplementationFactory> Make)>();
        if (native)
        {
            cases.Add(("C native host, batched", () => PluginResolver.Start("native:bundled")));
            cases.Add(("C native host, unbatched", () => PluginResolver.Start("native:bundled", new ProcessOptions { Batching = false })));
        }

        cases.Add(("Python process, batched", () => PluginResolver.Start(python)));
        cases.Add(("Python process, unbatched", () => PluginResolver.Start(python, new ProcessOptions { Batching = false })));
        foreach (var (name, make) in cases)
        {
            var factory = make();
            try
            {
                ConformanceRun.Run(factory, profile, new RunOptions { Sequences = 5 });
                var clock = Stopwatch.StartNew();
                var r = ConformanceRun.Run(factory, profile, options);
                var s = clock.Elapsed.TotalSeconds;
                var rate = r.CommandsExecuted / s;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-28} {r.CommandsExecuted,10} {s,8:F2} {rate,10:F0} {r.SequencesRun / s,8:F1} {rate / inProcessRate,13:P0}  {Load()}{(r.Conformant ? string.Empty : "  (NOT CONFORMANT)")}"));
            }
            finally
            {
                (factory as IDisposable)?.Dispose();
            }
        }
    }

    /// <summary>A generator as a run makes one: coverage steering on, with a tally of its own.</summary>
    private static SequenceGenerator Steered(Profile profile, Facet facets) =>
        new(profile, facets, null, new Engine.Coverage.EdgeTally(Engine.Coverage.EdgeCases.Targets(profile, facets)));

    /// <summary>
    /// The checking thread's half of a run on its own: each sequence is generated untimed, then executed against the
    /// implementation with the generator's outcomes, as the run does, one after the other (as in a run, no more than
    /// one generated sequence is held at a time). The best of <paramref name="repeat"/> sums of the executions, in seconds, after the
    /// warm-up every figure has (<see cref="WarmUpOf"/>; it was three passes, before tiered compilation had settled), and what one
    /// run's executions allocate.
    /// The executing thread waits while the next sequence is generated. Until its wait spun (GuardedInvoker's Handoff),
    /// each execution here also paid for waking it (timed inside the executor on 2026-12-07: 25-30 ms of an
    /// execution-alone figure of about 95 ms, where the walks themselves took 55-60 ms); after it, execution alone took
    /// 44-54 ms where it had taken about 70.
    /// </summary>
    private static (double Seconds, long Bytes) ExecutionAlone(Func<IImplementationFactory> reference, Profile profile, Facet facets, RunOptions options, int repeat)
    {
        using var executor = new SequenceExecutor(reference(), profile, facets, options.CommandTimeout);

        // One pass over the run's sequences: generated untimed, each executed timed. Returns the executing time in
        // seconds and the bytes the executions allocated.
        (double Seconds, long Bytes) Pass()
        {
            var generator = Steered(profile, facets);
            var executing = 0L;
            var allocated = 0L;
            for (var s = 0; s < options.Sequences; s++)
            {
                var commands = generator.Generate(Engine.Prng.Derive(options.Seed, (ulong)s), options.Length, out var stepped);
                var bytes = GC.GetTotalAllocatedBytes(precise: true);
                var start = Stopwatch.GetTimestamp();
                executor.Execute(commands, stepped: stepped);
                executing += Stopwatch.GetTimestamp() - start;
                allocated += GC.GetTotalAllocatedBytes(precise: true) - bytes;
            }

            return ((double)executing / Stopwatch.Frequency, allocated);
        }

        WarmUpOf(() => Pass().Bytes);
        var best = double.MaxValue;
        var bytesPerRun = 0L;
        for (var i = 0; i < repeat; i++)
        {
            (var seconds, bytesPerRun) = Pass();
            best = Math.Min(best, seconds);
        }

        return (best, bytesPerRun);
    }

    /// <summary>
    /// The implementation alone, the model alone and the checked run of one comparison, timed in turn, round after
    /// round (after each one's warm-up), so that every round's three figures come from the same few hundred
    /// milliseconds of a machine whose speed drifts by several times within the hour. Returns the best time of each, in
    /// seconds, and the median over the rounds of each round's checked / (model + implementation) with the lowest and the
    /// highest of them: the ratio of the bests compares figures that may come from different minutes, the median of the
    /// rounds' ratios does not, and the range shows how far one table's rounds disagree.
    /// </summary>
    public static (double Impl, double Model, double Checked, double RoundRatio, double RoundLow, double RoundHigh) Interleaved(int rounds, Func<long> impl, Func<long> model, Func<long> check)
    {
        Func<long>[] works = [impl, model, check];
        foreach (var work in works)
        {
            WarmUpOf(work);
        }

        var best = new[] { double.MaxValue, double.MaxValue, double.MaxValue };
        var ratios = new double[rounds];
        var times = new double[works.Length];
        for (var r = 0; r < rounds; r++)
        {
            for (var w = 0; w < works.Length; w++)
            {
                var clock = Stopwatch.StartNew();
                works[w]();
                times[w] = clock.Elapsed.TotalSeconds;
                best[w] = Math.Min(best[w], times[w]);
            }

            ratios[r] = times[2] / (times[0] + times[1]);
        }

        Array.Sort(ratios);
        var median = rounds % 2 == 1 ? ratios[rounds / 2] : (ratios[(rounds / 2) - 1] + ratios[rounds / 2]) / 2;
        return (best[0], best[1], best[2], median, ratios[0], ratios[^1]);
    }

    // Until tiered compilation has settled: the runtime compiles each hot method again (quick, instrumented, optimised)
    // on a background thread, and while the work keeps both cores busy that takes many seconds. A checked run of the
    // default budget went on getting recompiled for about nine seconds (about 10,000 method bodies, 3,500 distinct),
    // running 2-5 times slower than its settled speed for the first four; the model alone, on one thread, settles within
    // a few. So the warm-up lasts at least three calls and two seconds, and then until one second passed in which the
    // runtime compiled fewer than SettledCompilations method bodies (at most MaxWarmUp; its length is kept for the report).
    private static void WarmUpOf(Func<long> work)
    {
        var warming = Stopwatch.StartNew();
        var compiled = new List<(TimeSpan At, long Count)>();
        for (var i = 0; ; i++)
        {
            work();
            var (now, count) = (warming.Elapsed, System.Runtime.JitInfo.GetCompiledMethodCount());
            compiled.Add((now, count));

            // The compilations of the last second: since the latest call that ended at least a second ago (the calls
            // before that one are not needed again).
            var since = compiled.FindLastIndex(c => now - c.At >= SettleWindow);
            if (since > 0)
            {
                compiled.RemoveRange(0, since);
            }

            var settled = i >= 2 && now >= WarmUp && since >= 0 && count - compiled[0].Count < SettledCompilations;
            if (settled || now >= MaxWarmUp)
            {
                LongestWarmUp = now > LongestWarmUp ? now : LongestWarmUp;
                UnsettledWarmUps += settled ? 0 : 1;
                return;
            }
        }
    }

    /// <summary>The best (shortest) of <paramref name="repeat"/> timed calls after one warm-up, in seconds.</summary>
    public static double Best(int repeat, Func<long> work)
    {
        WarmUpOf(work);

        var best = double.MaxValue;
        var bestCpu = double.MaxValue;
        var total = 0.0;
        var totalCpu = 0.0;
        using var self = Process.GetCurrentProcess();
        for (var i = 0; i < repeat; i++)
        {
            self.Refresh();
            var cpu = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            work();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
            total += clock.Elapsed.TotalSeconds;
            self.Refresh();
            bestCpu = Math.Min(bestCpu, (self.TotalProcessorTime - cpu).TotalSeconds);
            totalCpu += (self.TotalProcessorTime - cpu).TotalSeconds;
        }

        LastBestCpu = bestCpu;
        LastMean = total / repeat;
        LastMeanCpu = totalCpu / repeat;
        return best;
    }

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan SettleWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(30);
    private const long SettledCompilations = 20;

    /// <summary>The longest warm-up so far.</summary>
    public static TimeSpan LongestWarmUp { get; private set; }

    /// <summary>How many warm-ups ended at <see cref="MaxWarmUp"/> with tiered compilation still busy.</summary>
    public static int UnsettledWarmUps { get; private set; }

    /// <summary>How the warm-ups went, for the end of a table: the figures of a warm-up that did not settle are suspect.</summary>
    public static string WarmUpNote() => string.Create(CultureInfo.InvariantCulture,
        $"warm-up before each timed work until tiered compilation settled (fewer than {SettledCompilations} methods compiled in {SettleWindow.TotalSeconds:F0} s): longest {LongestWarmUp.TotalSeconds:F1} s")
        + (UnsettledWarmUps == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"; {UnsettledWarmUps} did not settle within {MaxWarmUp.TotalSeconds:F0} s"))
        + (DynamicPgo() ? "; dynamic PGO on (the runtime's default; the runner and the test host run without it: DOTNET_TieredPGO=0 measures that)" : "; dynamic PGO off");

    // As the runtime decides it: the environment (DOTNET_ or COMPlus_TieredPGO) first, then the runtime configuration.
    private static bool DynamicPgo()
    {
        // The runtime reads the variable as a hexadecimal number, and ignores one that is not.
        var env = Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? Environment.GetEnvironmentVariable("COMPlus_TieredPGO");
        if (uint.TryParse(env, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var set))
        {
            return set != 0;
        }

        return AppContext.GetData("System.Runtime.TieredPGO") is not (false or "false");
    }

    /// <summary>The best process CPU time (all threads) of the last <see cref="Best"/>, in seconds: less sensitive to other load than wall time.</summary>
    public static double LastBestCpu { get; private set; }

    /// <summary>The mean wall time of the last <see cref="Best"/>'s timed calls, in seconds: the best of a few calls can be
    /// one that no garbage collection fell into, the mean pays for the collections every call causes.</summary>
    public static double LastMean { get; private set; }

    /// <summary>The mean process CPU time of the last <see cref="Best"/>'s timed calls, in seconds.</summary>
    public static double LastMeanCpu { get; private set; }

    public static double Ms(double seconds) => seconds * 1000;

    /// <summary>The lowest and the highest round's ratio, for the "range" column.</summary>
    public static string Range(double low, double high) => string.Create(CultureInfo.InvariantCulture, $"{low:F2}-{high:F2}");

    /// <summary>The 1-minute load average (the machine is shared: every figure is printed with it).</summary>
    public static string Load()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>The reference implementation claiming only the facets the other implementations cover, so all run the same sequences.</summary>
    private sealed class Restricted(IImplementationFactory inner) : IImplementationFactory
    {
        public string Name => inner.Name;

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile) is { } m ? m with { Facets = m.Facets & ProcessFacets } : null;

        public IGupImplementation Create(Profile profile) => inner.Create(profile);
    }
}
