using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// Table 5 (<c>--replay-scaling [--lengths 2500,5000,10000,20000] [--write-traces DIR]</c>): how trace replay grows
/// with trace length (issue 16). For each length N, one generated sequence of N actions (seed 1, the reference's
/// facets) is written as a trace and replayed the way <c>--replay</c> does it (<see cref="TraceReplay.ReplayFile"/>,
/// then the console report of a failure): against the reference, which passes it, and against the reference broken
/// at the trace's last action (an inspection after it reports a refcount one too high), whose report lists all N
/// steps with the model's changes. Beside them, the untraced execution alone (what a corpus replay of a passing trace
/// costs), which grows with the commands executed: the actions and the inspection of every folio the model knows after
/// each. Every figure is one wall-clock run, with the load average, since the machine is shared. Replay should cost
/// about what the untraced execution costs at every length ("x untr" flat), and the time per command stay flat.
/// </summary>
public static class ReplayScaling
{
    public static readonly IReadOnlyList<int> DefaultLengths = [2_500, 5_000, 10_000, 20_000];

    public static void Print(Profile profile, IReadOnlyList<int> lengths, string? traceDir)
    {
        var reference = new KernelStyleFactory();
        var facets = reference.ManifestFor(profile)!.Facets & profile.Facets;
        var dir = traceDir ?? Path.Combine(Path.GetTempPath(), "gupconformance-replay-scaling-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"5. Trace replay against trace length (profile {profile.Id}; one run each)"));
        Console.WriteLine("   commands: actions and the inspections after each (one per folio the model knows), what an untraced run costs;");
        Console.WriteLine("   pass / fail: --replay against the reference / the reference broken at the last action (report rendered too);");
        Console.WriteLine("   each time as wall / process CPU seconds; x untr (CPU over the untraced CPU) and us/cmd (fail CPU per command)");
        Console.WriteLine("   should stay flat as the trace doubles.");
        Console.WriteLine($"{"actions",8} {"folios",7} {"commands",10} {"untraced s",13} {"pass s",13} {"x untr",6} {"fail s",13} {"x untr",6} {"us/cmd",6} {"report lines",12}  load");
        try
        {
            // Warm-up: the whole path once on the shortest trace, so that the first row runs optimised code too.
            Row(profile, facets, lengths.Min(), dir, print: false);
            foreach (var n in lengths)
            {
                Row(profile, facets, n, dir, print: true);
            }
        }
        finally
        {
            if (traceDir is null)
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static void Row(Profile profile, Facet facets, int n, string dir, bool print)
    {
        var path = Write(profile, facets, n, dir);
        var trace = TraceFile.Load(path);
        var reference = new KernelStyleFactory();
        var options = new RunOptions { ImplementationId = "reference" };

        long commands;
        var clock = Clock.Start();
        using (var executor = new SequenceExecutor(reference, profile, facets, options.CommandTimeout))
        {
            var plain = executor.Execute(trace.Commands);
            if (!plain.Passed)
            {
                throw new InvalidOperationException($"the generated trace of {n} actions does not pass on the reference: {plain.Status} at {plain.FailedAction}");
            }

            commands = plain.CommandsExecuted;
        }

        var untraced = clock.Stop();

        clock = Clock.Start();
        var passed = TraceReplay.ReplayFile(reference, path, options);
        var pass = clock.Stop();
        if (passed.Verdict != ReplayVerdict.Passed)
        {
            throw new InvalidOperationException($"the reference replays the trace of {n} actions as {passed.Verdict}");
        }

        var broken = new BrokenAtLast(reference, trace.Commands[^1]);
        clock = Clock.Start();
        var failed = TraceReplay.Replay(broken, trace, path, options);
        var report = failed.Counterexample is { } c ? ReportWriter.RenderCounterexample(c) : string.Empty;
        var fail = clock.Stop();
        if (failed.Verdict is not (ReplayVerdict.SameFailure or ReplayVerdict.DifferentFailure) || failed.Counterexample?.Steps.Count != n)
        {
            throw new InvalidOperationException($"the broken reference replays the trace of {n} actions as {failed.Verdict} with {failed.Counterexample?.Steps.Count} steps");
        }

        if (print)
        {
            var folios = FinalFolios(profile, trace.Commands);
            var lines = report.Count(ch => ch == '\n');
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{n,8} {folios,7} {commands,10} {untraced,13} {pass,13} {pass.Cpu / untraced.Cpu,6:F2} {fail,13} {fail.Cpu / untraced.Cpu,6:F2} {fail.Cpu * 1e6 / commands,6:F2} {lines,12}  {Program.Load()}"));
        }
    }

    /// <summary>Wall-clock and process CPU seconds (all threads) of one measured call.</summary>
    private readonly record struct Times(double Wall, double Cpu)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Wall:F2} / {Cpu:F2}");
    }

    private sealed class Clock
    {
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly TimeSpan _cpu = Cpu();

        public static Clock Start() => new();

        public Times Stop() => new(_wall.Elapsed.TotalSeconds, (Cpu() - _cpu).TotalSeconds);

        private static TimeSpan Cpu()
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }
    }

    /// <summary>Generates a sequence of <paramref name="n"/> actions and writes it as a trace (ending in a state-changing action).</summary>
    public static string Write(Profile profile, Facet facets, int n, string dir)
    {
        // A query changes no state: dropping one keeps the rest valid, so trailing queries give way to later actions.
        var generated = SequenceGenerator.Generate(profile, facets, seed: 1, length: n + 256);
        var commands = generated.Take(n).ToList();
        var next = n;
        while (commands.Count > 0 && commands[^1].IsQuery && next < generated.Length)
        {
            commands.RemoveAt(commands.Count - 1);
            commands.Add(generated[next++]);
        }

        if (commands.Count != n || commands[^1].IsQuery || Shrinker.Validate(profile, facets, commands) is not null)
        {
            throw new InvalidOperationException($"could not generate {n} valid actions ending in a state-changing one");
        }

        var manifest = new KernelStyleFactory().ManifestFor(profile)!;
        var trace = new TraceFile
        {
            SuiteVersion = SuiteVersion.Value,
            Implementation = "reference",
            Profile = profile.Id,
            Manifest = new TraceManifest(manifest.Implementation, manifest.ProfileId, TraceFile.FacetNames(facets), []),
            RunSeed = 1,
            SeedReplayCommand = "gupconformance --seed 1",
            Kind = "divergence",
            Commands = commands,
            FailedAction = n - 1,
            ViolatedRules = ["CORE-NO-COLLATERAL"],
        };
        var path = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"scaling-{n}{RegressionCorpus.Extension}"));
        File.WriteAllText(path, trace.ToJson());
        return path;
    }

    private static int FinalFolios(Profile profile, IReadOnlyList<Command> commands)
    {
        var state = GupModel.Init(profile);
        foreach (var c in commands)
        {
            state = GupModel.Step(state, c).Next;
        }

        return state.FolioKeys.Count;
    }

    /// <summary>The reference, except that once it has run <c>last</c> every folio inspection reports a refcount one too high.</summary>
    private sealed class BrokenAtLast(IImplementationFactory inner, Command last) : IImplementationFactory
    {
        public string Name => "reference-broken-at-last";

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile);

        public IGupImplementation Create(Profile profile) => new Instance(inner.Create(profile), last);

        private sealed class Instance(IGupImplementation impl, Command last) : IGupImplementation
        {
            private bool _after;

            public Observation Execute(Command command)
            {
                var o = impl.Execute(command);
                _after |= ReferenceEquals(command, last);
                return _after && command is InspectFolio && o.Refcount is { } r ? o with { Refcount = r + 1 } : o;
            }

            public void Dispose() => impl.Dispose();
        }
    }
}
