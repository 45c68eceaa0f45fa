using System.Diagnostics;
using GupConformance.Fixtures.LiveKernel;

namespace GupConformance.Tests.Live;

/// <summary>
/// Live runs stopped by a signal leave the machine as they found it: SIGINT, SIGTERM and SIGHUP by the runner's own
/// handler, SIGKILL by the restore journal on the next live run or <c>--live-restore</c>. The runner is started as a
/// process of its own (as a user starts it) and signalled at several points of its run. Root only: elsewhere the
/// live run changes nothing, and these tests are skipped with the reason.
/// </summary>
[Collection(LiveKernelCollection.Name)]
public sealed class LiveInterruptTests
{
    private static readonly string[] Knobs = ["/proc/sys/vm/nr_hugepages", "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled"];
    private static readonly string[] DataDirs = ["/var/tmp", "/tmp"];

    internal static string Runner => Path.Combine(AppContext.BaseDirectory, "gupconformance");

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "(absent)";

    private static string[] Machine() =>
    [
        .. Knobs.Select(k => $"{k} = {Read(k)}"),
        .. DataDirs.Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "gupconformance-live-*.dat")).Order(StringComparer.Ordinal),
        File.Exists(LiveRestoreJournal.DefaultPath) ? "journal present" : "no journal",
    ];

    public static TheoryData<string, string> Stops => new()
    {
        { "INT", "at-start" },
        { "INT", "settings-changed" },
        { "INT-to-group", "mid-run" },
        { "TERM", "settings-changed" },
        { "TERM", "mid-run" },
        { "HUP", "mid-run" },
        { "KILL", "settings-changed" },
        { "KILL", "mid-run" },
    };

    [SkippableTheory]
    [MemberData(nameof(Stops))]
    public void A_live_run_stopped_by_a_signal_leaves_every_setting_and_file_as_before(string signal, string point)
    {
        SkipUnlessLiveRunsHere();
        var before = Machine();
        Assert.DoesNotContain("journal present", before);
        try
        {
            var (code, output) = StartAndStop(signal, point);
            var expected = signal switch
            {
                "HUP" => 129,
                "TERM" => 143,
                "KILL" => 137,
                _ => 130,
            };
            Assert.True(expected == code, $"exit {code}, expected {expected}\n{output}");

            if (signal == "KILL")
            {
                // Nothing ran after SIGKILL: the journal is what puts the machine back. The next live run replays it
                // (after a stop where settings had changed), or --live-restore does.
                if (point == "mid-run")
                {
                    Assert.Contains("journal present", Machine());
                    var (restoreCode, restoreOut) = RunToEnd("--live-restore");
                    Assert.True(restoreCode == 0, restoreOut);
                    Assert.Contains("found the restore journal of an interrupted live run", restoreOut, StringComparison.Ordinal);
                    Assert.Contains("removed /", restoreOut, StringComparison.Ordinal);
                }
                else
                {
                    var (nextCode, nextOut) = RunToEnd("--live", "--seed", "1", "--sequences", "2", "--length", "10");
                    Assert.True(nextCode == 0, nextOut);
                    Assert.Contains("restored from an interrupted run: found the restore journal", nextOut, StringComparison.Ordinal);
                }
            }
            else if (point != "at-start")
            {
                // At the very start the signal may come before the handler exists: then the default action ends the
                // process before it has changed anything, which the comparison below shows just as well.
                Assert.Contains("stopping the live run and putting the machine's settings back", output, StringComparison.Ordinal);
            }

            WaitForNoOrphanHelpers();
            Assert.Equal(before, Machine());
            var (again, againOut) = RunToEnd("--live-restore");
            Assert.True(again == 0, againOut);
            Assert.Contains("nothing to restore", againOut, StringComparison.Ordinal);
        }
        finally
        {
            // Whatever happened above, this machine is left as it was found.
            LiveRestoreJournal.ReplayLeftover(LiveRestoreJournal.DefaultPath);
        }
    }

    internal static void SkipUnlessLiveRunsHere()
    {
        using var probe = new LiveKernelFactory(useHugetlb: false, useMthp: false);
        Skip.IfNot(probe.Environment.Available, $"live kernel not applicable: {probe.Environment.NotApplicableReason}");
        Skip.IfNot(File.Exists(Runner), $"the runner is not next to the tests: {Runner}");
    }

    /// <summary>
    /// Starts a live run in a session of its own (so a signal can go to its whole process group, as Ctrl+C does), waits
    /// for the point, sends the signal, and returns the exit code and everything it printed. The run starts with the
    /// three signals at their default handling: a process inherits the signals its parent ignores, and a runner started
    /// under nohup (SIGHUP ignored) or as a background job of a script (SIGINT ignored) rightly keeps ignoring them,
    /// which is not what these tests are about (a CI run started under nohup failed the SIGHUP case that way).
    /// </summary>
    private static (int Code, string Output) StartAndStop(string signal, string point)
    {
        var psi = new ProcessStartInfo("env", ["--default-signal=INT,TERM,HUP", "setsid", Runner, "--live", "--seed", "7", "--sequences", "400", "--length", "60"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        var midRun = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) => Append(e.Data);
        p.ErrorDataReceived += (_, e) =>
        {
            Append(e.Data);
            if (e.Data?.StartsWith("live: sequence 10 of", StringComparison.Ordinal) == true)
            {
                midRun.Set();
            }
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            var reached = point switch
            {
                "at-start" => true,
                // A setting is journalled right before it is written; on a machine where no knob can be changed the
                // first progress line stands in (the data file is journalled and created by then).
                "settings-changed" => WaitUntil(() => Read(LiveRestoreJournal.DefaultPath).Contains("set\t", StringComparison.Ordinal) || midRun.IsSet, p),
                _ => midRun.Wait(TimeSpan.FromSeconds(60)),
            };
            // The messages are built from a copy taken under the lock: the output handlers keep appending on their own
            // threads, and a StringBuilder read while it grows throws.
            if (!reached)
            {
                Assert.Fail($"the run never reached {point}\n{Snapshot()}");
            }

            var target = signal.EndsWith("-to-group", StringComparison.Ordinal) ? $"-{p.Id}" : p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var name = signal.Split('-')[0];
            using (var kill = Process.Start(new ProcessStartInfo("kill", ["-s", name, "--", target]) { UseShellExecute = false })!)
            {
                kill.WaitForExit();
            }

            if (!p.WaitForExit(60_000))
            {
                Assert.Fail($"the run did not end within 60 s of SIG{name}\n{Snapshot()}");
            }

            // The second wait returns once the output handlers have seen the end of both streams.
            p.WaitForExit();
            return (p.ExitCode, Snapshot());
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }

        string Snapshot()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }

    private static bool WaitUntil(Func<bool> condition, Process p)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return condition();
    }

    internal static (int Code, string Output) RunToEnd(params string[] args)
    {
        var psi = new ProcessStartInfo(Runner, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var text = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "the runner did not end within 2 minutes");
        return (p.ExitCode, text + err.Result);
    }

    /// <summary>The helpers of a stopped run end with it (they read their commands from its pipe).</summary>
    private static void WaitForNoOrphanHelpers()
    {
        var clock = Stopwatch.StartNew();
        while (Helpers().Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(50);
        }

        Assert.Empty(Helpers());

        static List<int> Helpers() => [.. ProcFs.Pids().Where(pid => ProcFs.Read(pid, "comm")?.Trim() == "livehelper")];
    }
}
