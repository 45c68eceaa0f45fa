using System.Globalization;
using System.Runtime.InteropServices;
using GupConformance.Engine.Live;
using GupConformance.Fixtures.LiveKernel;
using GupConformance.Oracles.Live;

namespace GupConformance.Runner;

/// <summary>
/// <c>gupconformance --live [--seed N] [--sequences N] [--length N] [--live-profile ID] [--no-hugetlb] [--no-mthp]</c>:
/// the live run against the running kernel; <c>gupconformance --live-restore</c> puts back what a live run that died
/// left changed. Exit codes as for the main job (0 conformant or Not applicable, 1 not conformant, 2 bad arguments);
/// a run stopped by SIGINT, SIGTERM or SIGHUP puts the machine's settings back first and exits 128 + the signal.
/// </summary>
public static class LiveMode
{
    private static readonly string Usage =
        $"live options: --seed N|0xN|random, --sequences N, --length N, --live-profile {string.Join("|", LiveProfile.All.Select(p => p.Id))}, --no-hugetlb, --no-mthp; or --live-restore alone";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Contains("--live-restore", StringComparer.Ordinal))
        {
            return args.Length == 1 ? Restore(stdout, stderr) : Bad(stderr, "--live-restore takes no other option");
        }

        var options = new LiveRunOptions();
        string? profileId = null;
        bool hugetlb = true, mthp = true;
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
                            return Bad(stderr, $"--seed must be a 64-bit unsigned number (decimal or 0x-hex) or 'random' (got {Shown(text)})");
                        }

                        options = options with { Seed = seed };
                        break;
                    }

                case "--sequences":
                case "--length":
                    {
                        var text = Next();
                        if (text is null || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n <= 0)
                        {
                            var example = name == "--sequences" ? options.Sequences : options.Length;
                            return Bad(stderr, $"{name} must be a positive number (got {Shown(text)}); e.g. {name} {example.ToString(CultureInfo.InvariantCulture)}");
                        }

                        options = name == "--sequences" ? options with { Sequences = n } : options with { Length = n };
                        break;
                    }

                case "--live-profile":
                    profileId = Next();
                    if (profileId is null)
                    {
                        return Bad(stderr, $"--live-profile needs a value; known: {string.Join(", ", LiveProfile.All.Select(p => p.Id))}");
                    }

                    break;
                case "--no-hugetlb":
                    hugetlb = false;
                    break;
                case "--no-mthp":
                    mthp = false;
                    break;
                default:
                    return Bad(stderr, $"unknown live option '{name}' ({Usage})");
            }
        }

        LiveProfile? profile = null;
        if (profileId is not null && (profile = LiveProfile.Find(profileId)) is null)
        {
            return Bad(stderr, $"unknown live profile '{profileId}'; known: {string.Join(", ", LiveProfile.All.Select(p => p.Id))}");
        }

        using var interrupt = new LiveInterrupt(stderr);
        LiveRunResult result;
        IReadOnlyList<string> cleanup;
        IReadOnlyList<string> restoredAtStart;
        using (var factory = new LiveKernelFactory(useHugetlb: hugetlb, useMthp: mthp, cancel: interrupt.Token))
        {
            interrupt.Arm(factory);
            restoredAtStart = factory.RestoredAtStart;
            foreach (var line in restoredAtStart)
            {
                stderr.WriteLine("live: " + line);
            }

            try
            {
                result = new LiveConformanceRun(factory, profile).Run(options with { Cancel = interrupt.Token, Progress = stderr.WriteLine });
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

        if (result.Verdict != LiveVerdict.NotApplicable)
        {
            stdout.WriteLine($"Replay: gupconformance --live --seed {options.Seed.ToString(CultureInfo.InvariantCulture)} --sequences {options.Sequences.ToString(CultureInfo.InvariantCulture)} --length {options.Length.ToString(CultureInfo.InvariantCulture)}{(profileId is null ? string.Empty : " --live-profile " + profileId)}");
        }

        if (interrupt.Signal is { } signal)
        {
            return LiveInterrupt.ExitCodeFor(signal);
        }

        return cleanup.Any(c => c.Contains("FAILED", StringComparison.Ordinal)) || result.Verdict == LiveVerdict.Fail
            ? Program.ExitNotConformant
            : Program.ExitConformant;
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
