using System.Globalization;
using System.Runtime.InteropServices;
using GupConformance.Engine.Live;
using GupConformance.Fixtures.LiveKernel;
using GupConformance.Oracles.Live;

namespace GupConformance.Runner;

/// <summary>
/// <c>gupconformance --live [--impl kernel:6.12|kernel:6.1|kernel:PATH] [--seed N] [--sequences N] [--length N]
/// [--time-budget SECONDS] [--live-profile ID] [--no-hugetlb] [--no-mthp]</c>: the live run against the running kernel, or against a kernel
/// under test booted in a VM (built and cached as for the main job's <c>--impl kernel:…</c>); <c>gupconformance --live-restore</c> puts back what a live run that died
/// left changed. Exit codes as for the main job (0 conformant or Not applicable, 1 not conformant, 2 bad arguments);
/// a run stopped by SIGINT, SIGTERM or SIGHUP puts the machine's settings back first and exits 128 + the signal.
/// </summary>
public static class LiveMode
{
    private static readonly string Usage =
        $"live options: --impl kernel:6.12|kernel:6.1|kernel:PATH (a kernel under test in a VM; default: this machine's kernel), --seed N|0xN|random, --sequences N, --length N, --time-budget SECONDS, --live-profile {string.Join("|", LiveProfile.All.Select(p => p.Id))}, --no-hugetlb, --no-mthp, --report-md FILE, --report-json FILE, --report-junit FILE, --report-timings, --corpus DIR, --no-corpus; --replay FILE.live-trace.json; or --live-restore alone";

    /// <summary>The live options after checking.</summary>
    private sealed record LiveArgs
    {
        public LiveRunOptions Options { get; init; } = new();

        public string? ProfileId { get; init; }

        public bool Hugetlb { get; init; } = true;

        public bool Mthp { get; init; } = true;

        public string? MarkdownPath { get; init; }

        public string? JsonPath { get; init; }

        public string? JUnitPath { get; init; }

        public bool Timings { get; init; }

        public string? CorpusDirectory { get; init; } = Engine.RegressionCorpus.DefaultDirectory;

        public bool CorpusGiven { get; init; }

        public string? ReplayPath { get; init; }

        /// <summary>The kernel tree of <c>--impl kernel:TREE</c>, or null for this machine's kernel.</summary>
        public string? KernelTree { get; init; }

        /// <summary>The options that choose the machine, for replay commands.</summary>
        public string ImplOption => KernelTree is null ? string.Empty : $" --impl {Engine.Plugins.KernelLauncher.Scheme}{KernelTree}";
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Contains("--live-restore", StringComparer.Ordinal))
        {
            return args.Length == 1 ? Restore(stdout, stderr) : Bad(stderr, "--live-restore takes no other option");
        }

        var (a, error) = Parse(args);
        if (a is null)
        {
            return Bad(stderr, error!);
        }

        LiveProfile? profile = null;
        if (a.ProfileId is not null && (profile = LiveProfile.Find(a.ProfileId)) is null)
        {
            return Bad(stderr, $"unknown live profile '{a.ProfileId}'; known: {string.Join(", ", LiveProfile.All.Select(p => p.Id))}");
        }

        var outputProblem = (a.MarkdownPath is { } md ? OutputPaths.FileProblem("--report-md", md) : null)
            ?? (a.JsonPath is { } json ? OutputPaths.FileProblem("--report-json", json) : null)
            ?? (a.JUnitPath is { } junit ? OutputPaths.FileProblem("--report-junit", junit) : null);
        if (outputProblem is not null)
        {
            return Bad(stderr, outputProblem);
        }

        if (a.CorpusDirectory is { } corpus && OutputPaths.DirectoryProblem("--corpus", corpus) is { } corpusProblem)
        {
            if (a.CorpusGiven)
            {
                return Bad(stderr, corpusProblem + " (or use --no-corpus)");
            }

            stderr.WriteLine($"warning: {corpusProblem}; running without the regression corpus");
            a = a with { CorpusDirectory = null };
        }

        return a.ReplayPath is { } replay ? Replay(replay, a, profile, stdout, stderr) : Generate(a, profile, stdout, stderr);
    }

    private static (LiveArgs? Args, string? Error) Parse(string[] args)
    {
        var a = new LiveArgs();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (name)
            {
                case "--live":
                    break;
                case "--seed":
                    {
                        var text = Next();
                        if (text is null || !Program.TryParseSeed(text, out var seed))
                        {
                            return (null, $"--seed must be a 64-bit unsigned number (decimal or 0x-hex) or 'random' (got {Shown(text)})");
                        }

                        a = a with { Options = a.Options with { Seed = seed } };
                        break;
                    }

                case "--time-budget":
                    {
                        var text = Next();
                        if (text is null || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var secs) || secs <= 0 || secs > 86_400)
                        {
                            return (null, $"--time-budget must be a number of seconds from 1 to 86400 (got {Shown(text)}); the default is {a.Options.Budget.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)}");
                        }

                        a = a with { Options = a.Options with { Budget = TimeSpan.FromSeconds(secs) } };
                        break;
                    }

                case "--sequences":
                case "--length":
                    {
                        var text = Next();
                        if (text is null || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n <= 0)
                        {
                            var example = name == "--sequences" ? a.Options.Sequences : a.Options.Length;
                            return (null, $"{name} must be a positive number (got {Shown(text)}); e.g. {name} {example.ToString(CultureInfo.InvariantCulture)}");
                        }

                        a = a with { Options = name == "--sequences" ? a.Options with { Sequences = n } : a.Options with { Length = n } };
                        break;
                    }

                case "--live-profile":
                    {
                        var id = Next();
                        if (id is null)
                        {
                            return (null, $"--live-profile needs a value; known: {string.Join(", ", LiveProfile.All.Select(p => p.Id))}");
                        }

                        a = a with { ProfileId = id };
                        break;
                    }

                case "--impl":
                    {
                        var impl = Next();
                        if (impl is null || !impl.StartsWith(Engine.Plugins.KernelLauncher.Scheme, StringComparison.Ordinal))
                        {
                            return (null, $"--live --impl takes a kernel under test (kernel:6.12, kernel:6.1 or kernel:PATH); without --impl the live run checks this machine's kernel (got {Shown(impl)})");
                        }

                        try
                        {
                            a = a with { KernelTree = Engine.Plugins.KernelLauncher.Tree(impl) };
                        }
                        catch (Engine.Plugins.PluginSetupException e)
                        {
                            return (null, e.Message);
                        }

                        break;
                    }

                case "--no-hugetlb":
                    a = a with { Hugetlb = false };
                    break;
                case "--no-mthp":
                    a = a with { Mthp = false };
                    break;
                case "--report-timings":
                    a = a with { Timings = true };
                    break;
                case "--no-corpus":
                    a = a with { CorpusDirectory = null, CorpusGiven = false };
                    break;
                case "--report-md":
                case "--report-json":
                case "--report-junit":
                case "--corpus":
                case "--replay":
                    {
                        var path = Next();
                        if (path is null)
                        {
                            return (null, $"{name} needs a path");
                        }

                        a = name switch
                        {
                            "--report-md" => a with { MarkdownPath = path },
                            "--report-json" => a with { JsonPath = path },
                            "--report-junit" => a with { JUnitPath = path },
                            "--corpus" => a with { CorpusDirectory = path, CorpusGiven = true },
                            _ => a with { ReplayPath = path },
                        };
                        break;
                    }

                default:
                    return (null, $"unknown live option '{name}' ({Usage})");
            }
        }

        return (a, null);
    }

    /// <summary>A generated live run: reports, traces of its counterexamples, the replay command.</summary>
    private static int Generate(LiveArgs a, LiveProfile? profile, TextWriter stdout, TextWriter stderr)
    {
        using var interrupt = new LiveInterrupt(stderr);
        LiveRunResult result;
        IReadOnlyList<string> cleanup;
        IReadOnlyList<string> restoredAtStart;
        LiveKernelFactory? created;
        try
        {
            created = CreateFactory(a, interrupt.Token, stderr);
        }
        catch (Engine.Plugins.PluginSetupException e)
        {
            return Bad(stderr, e.Message);
        }
        catch (InvalidOperationException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Program.ExitNotConformant;
        }

        using (var factory = created)
        {
            interrupt.Arm(factory);
            restoredAtStart = factory.RestoredAtStart;
            foreach (var line in restoredAtStart)
            {
                stderr.WriteLine("live: " + line);
            }

            try
            {
                result = new LiveConformanceRun(factory, profile).Run(a.Options with { Cancel = interrupt.Token, Progress = stderr.WriteLine });
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException)
            {
                // The helper died or stopped answering without an interrupt: no verdict, but the machine is put back.
                factory.Dispose();
                interrupt.Finished();
                stderr.WriteLine($"error: the live run stopped: {e.Message}");
                foreach (var c in factory.CleanupReport)
                {
                    stderr.WriteLine("cleanup: " + c);
                }

                return Program.ExitNotConformant;
            }

            factory.Dispose();
            cleanup = factory.CleanupReport;
        }

        interrupt.Finished();
        foreach (var line in restoredAtStart)
        {
            stdout.WriteLine("restored from an interrupted run: " + line.Trim());
        }

        stdout.Write(result.Render());
        foreach (var c in cleanup)
        {
            stdout.WriteLine("cleanup: " + c);
        }

        var seedReplay = $"gupconformance --live{a.ImplOption} --seed {a.Options.Seed.ToString(CultureInfo.InvariantCulture)} --sequences {a.Options.Sequences.ToString(CultureInfo.InvariantCulture)} --length {a.Options.Length.ToString(CultureInfo.InvariantCulture)}{(a.ProfileId is null ? string.Empty : " --live-profile " + a.ProfileId)}";
        if (result.Verdict != LiveVerdict.NotApplicable)
        {
            stdout.WriteLine($"Replay: {seedReplay}");
        }

        var written = WriteOutputs(a, result, seedReplay, stdout, stderr);
        if (interrupt.Signal is { } signal)
        {
            return LiveInterrupt.ExitCodeFor(signal);
        }

        return !written || cleanup.Any(c => c.Contains("FAILED", StringComparison.Ordinal)) || result.Verdict == LiveVerdict.Fail
            ? Program.ExitNotConformant
            : Program.ExitConformant;
    }

    private static bool WriteOutputs(LiveArgs a, LiveRunResult result, string seedReplay, TextWriter stdout, TextWriter stderr)
    {
        var options = new Engine.ReportOptions { IncludeTimings = a.Timings };
        try
        {
            if (a.MarkdownPath is { } md)
            {
                File.WriteAllText(md, LiveReports.Markdown(result, options));
                stderr.WriteLine($"wrote the Markdown report to {md}");
            }

            if (a.JsonPath is { } json)
            {
                File.WriteAllText(json, LiveReports.Json(result, options));
                stderr.WriteLine($"wrote the JSON report to {json}");
            }

            if (a.JUnitPath is { } junit)
            {
                File.WriteAllText(junit, Engine.JUnitReport.Render(result, options));
                stderr.WriteLine($"wrote the JUnit XML report to {junit}");
            }

            if (a.CorpusDirectory is { } corpus)
            {
                foreach (var c in result.Counterexamples.Where(c => c.Reproduced))
                {
                    var path = LiveTraceFile.From(c, result, seedReplay).Write(corpus);
                    stdout.WriteLine($"Counterexample saved as {path}; replay it on this kernel with: {LiveTraceFile.ReplayCommand(path)}{a.ImplOption}");
                }
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// --replay of a live trace: its commands run once more on this kernel, against the live model of the trace's
    /// profile (or --live-profile) and this machine's facts. Exit 0 when it passes now, 1 when it still fails (the
    /// same rules or others), 2 when it cannot run here.
    /// </summary>
    private static int Replay(string path, LiveArgs a, LiveProfile? profileOverride, TextWriter stdout, TextWriter stderr)
    {
        LiveTraceFile trace;
        try
        {
            trace = LiveTraceFile.FromJson(Engine.TraceFile.ReadBounded(path));
        }
        catch (Engine.TraceFileException e)
        {
            return Bad(stderr, $"cannot use the live trace: {Engine.Plugins.Untrusted.Printable(e.Message)}");
        }

        var profile = profileOverride ?? LiveProfile.Find(trace.LiveProfile);
        if (profile is null)
        {
            return Bad(stderr, $"the live trace names live profile '{Engine.Plugins.Untrusted.Printable(trace.LiveProfile)}', which does not exist; choose one with --live-profile");
        }

        using var interrupt = new LiveInterrupt(stderr);
        LiveKernelFactory created;
        try
        {
            created = CreateFactory(a, interrupt.Token, stderr);
        }
        catch (Engine.Plugins.PluginSetupException e)
        {
            return Bad(stderr, e.Message);
        }
        catch (InvalidOperationException e)
        {
            return Bad(stderr, $"the live trace cannot be replayed: {e.Message}");
        }

        using var factory = created;
        interrupt.Arm(factory);
        try
        {
            if (!factory.Environment.Available)
            {
                return Bad(stderr, $"the live trace cannot be replayed here: {factory.Environment.NotApplicableReason}");
            }

            var run = new LiveConformanceRun(factory, profile);
            if (!run.IsValid(trace.LiveCommands))
            {
                return Bad(stderr, $"the live model refuses this trace's commands on this machine (recorded on {trace.Kernel}; here: THP {(factory.Environment.HasThp ? "yes" : "no")}, 64 KiB mTHP {(factory.Environment.HasMthp64 ? "yes" : "no")}, hugetlb pool {factory.Environment.HugetlbPool.ToString(CultureInfo.InvariantCulture)})");
            }

            var (failedAt, violated, steps, _) = run.ExecuteSequence(trace.LiveCommands);
            stdout.WriteLine($"GupConformance {Spec.SuiteVersion.Value} live trace replay");
            stdout.WriteLine($"Trace:          {path}");
            stdout.WriteLine($"Recorded on:    {trace.Kernel} under {trace.LiveProfile}, failing with {string.Join(", ", trace.ViolatedRules)}");
            stdout.WriteLine($"Kernel now:     {factory.Environment.KernelRelease} under {profile.Id}");
            foreach (var s in steps)
            {
                stdout.WriteLine($"  {s.Index.ToString(CultureInfo.InvariantCulture),3}. {s.Command}");
                stdout.WriteLine($"       model: {s.Change}");
                foreach (var m in s.Mismatches)
                {
                    stdout.WriteLine($"       MISMATCH {m.Field}: observed {m.Observed ?? Oracles.FieldCheck.Absent}, allowed {string.Join(" | ", m.Allowed)} [{string.Join(", ", m.Rules)}]");
                }
            }

            if (failedAt is null)
            {
                stdout.WriteLine($"Replay: it passes now (recorded: {string.Join(", ", trace.ViolatedRules)})");
                return Program.ExitConformant;
            }

            var same = violated.Order(StringComparer.Ordinal).SequenceEqual(trace.ViolatedRules.Order(StringComparer.Ordinal), StringComparer.Ordinal);
            stdout.WriteLine(same
                ? $"Replay: the recorded disagreement reproduces ({string.Join(", ", violated)})"
                : $"Replay: it fails differently: recorded {string.Join(", ", trace.ViolatedRules)}, now {string.Join(", ", violated)}");
            return Program.ExitNotConformant;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or TimeoutException)
        {
            stderr.WriteLine(interrupt.Signal is null ? $"error: the live replay stopped: {e.Message}" : "live: replay interrupted");
            return interrupt.Signal is { } sig ? LiveInterrupt.ExitCodeFor(sig) : Program.ExitNotConformant;
        }
        finally
        {
            factory.Dispose();
            interrupt.Finished();
            foreach (var c in factory.CleanupReport)
            {
                stdout.WriteLine("cleanup: " + c);
            }
        }
    }

    /// <summary>
    /// The live fixture on this machine's kernel, or on a kernel under test: its image is built or found in the cache
    /// (progress on stderr, as for the main job) and booted with the live agent. Throws
    /// <see cref="Engine.Plugins.PluginSetupException"/> when the image cannot be built and
    /// <see cref="InvalidOperationException"/> when the guest does not come up.
    /// </summary>
    private static LiveKernelFactory CreateFactory(LiveArgs a, CancellationToken cancel, TextWriter stderr)
    {
        if (a.KernelTree is not { } tree)
        {
            return new LiveKernelFactory(useHugetlb: a.Hugetlb, useMthp: a.Mthp, cancel: cancel);
        }

        var image = Engine.Plugins.KernelLauncher.Build(tree, stderr.WriteLine);
        stderr.WriteLine(image.Cached
            ? $"live: kernel {image.Label} ({image.Release}) from the cache {image.Cache}"
            : $"live: kernel {image.Label} ({image.Release}) built in {image.BuildSeconds.ToString(CultureInfo.InvariantCulture)} s, cached in {image.Cache}");
        var launch = Engine.Plugins.KernelLauncher.Launch(image, live: true);
        var guest = LiveGuest.Boot(image.Label, launch.FileName, launch.Arguments, stderr.WriteLine, Engine.Plugins.KernelLauncher.BootTimeout);
        stderr.WriteLine($"live: {guest.Name} ({guest.KernelRelease}) ready in {guest.BootTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        return LiveKernelFactory.InGuest(guest, useHugetlb: a.Hugetlb, useMthp: a.Mthp, cancel: cancel);
    }

    /// <summary>--live-restore: replays the journal a dead live run left, under the live lock.</summary>
    private static int Restore(TextWriter stdout, TextWriter stderr)
    {
        if (!OperatingSystem.IsLinux() || !LiveKernelFactory.IsRoot())
        {
            return Bad(stderr, "--live-restore needs root on Linux: the settings a live run changes are root-only");
        }

        using var held = LiveLock.Take(TimeSpan.FromSeconds(10));
        if (held is null)
        {
            stderr.WriteLine($"error: a live run is in progress (it holds @{LiveLock.Name}); it puts back its own settings when it ends, or run --live-restore again after it");
            return Program.ExitNotConformant;
        }

        var lines = LiveRestoreJournal.ReplayLeftover(LiveRestoreJournal.DefaultPath);
        if (lines.Count == 0)
        {
            stdout.WriteLine($"nothing to restore: no journal at {LiveRestoreJournal.DefaultPath}");
            return Program.ExitConformant;
        }

        foreach (var line in lines)
        {
            stdout.WriteLine(line);
        }

        return lines.Any(l => l.Contains("FAILED", StringComparison.Ordinal) || l.Contains("could not", StringComparison.Ordinal))
            ? Program.ExitNotConformant
            : Program.ExitConformant;
    }

    private static string Shown(string? text) => text is null ? "nothing" : $"'{text}'";

    private static int Bad(TextWriter stderr, string message)
    {
        stderr.WriteLine($"error: {message}");
        return Program.ExitBadArguments;
    }

    /// <summary>
    /// SIGINT, SIGTERM and SIGHUP during a live run: the first one stops the run (its helpers are ended at once) and
    /// lets the run's own thread put the settings back; if that thread has not finished within the grace period, the
    /// handler puts them back itself and exits. Later signals only say that the restore is under way.
    /// </summary>
    private sealed class LiveInterrupt : IDisposable
    {
        private static readonly TimeSpan Grace = TimeSpan.FromSeconds(20);
        private readonly CancellationTokenSource _cts = new();
        private readonly ManualResetEventSlim _finished = new();
        private readonly List<PosixSignalRegistration> _registrations = [];
        private readonly TextWriter _stderr;
        private LiveKernelFactory? _factory;
        private int _signal;

        public LiveInterrupt(TextWriter stderr)
        {
            _stderr = stderr;
            foreach (var s in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            {
                _registrations.Add(PosixSignalRegistration.Create(s, OnSignal));
            }
        }

        public CancellationToken Token => _cts.Token;

        /// <summary>The signal number that stopped the run, if one did.</summary>
        public int? Signal => _signal == 0 ? null : _signal;

        public static int ExitCodeFor(int signal) => 128 + signal;

        public void Arm(LiveKernelFactory factory)
        {
            _factory = factory;
            if (_cts.IsCancellationRequested)
            {
                factory.Abort();
            }
        }

        public void Finished() => _finished.Set();

        private static int Number(PosixSignal s) => s switch
        {
            PosixSignal.SIGHUP => 1,
            PosixSignal.SIGINT => 2,
            _ => 15,
        };

        private void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            var number = Number(context.Signal);
            if (Interlocked.CompareExchange(ref _signal, number, 0) != 0)
            {
                _stderr.WriteLine($"live: {context.Signal} again: the machine's settings are being put back, please wait");
                return;
            }

            _stderr.WriteLine($"live: {context.Signal}: stopping the live run and putting the machine's settings back");
            _cts.Cancel();
            _factory?.Abort();
            _ = Task.Run(() =>
            {
                if (_finished.Wait(Grace))
                {
                    return;
                }

                _stderr.WriteLine("live: the run did not stop in time; putting the settings back from the signal handler");
                _factory?.Dispose();
                foreach (var line in _factory?.CleanupReport ?? [])
                {
                    _stderr.WriteLine("cleanup: " + line);
                }

                Environment.Exit(ExitCodeFor(number));
            });
        }

        public void Dispose()
        {
            foreach (var r in _registrations)
            {
                r.Dispose();
            }

            _finished.Dispose();
            _cts.Dispose();
        }
    }
}
