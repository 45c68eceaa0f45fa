using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// Process plug-ins that misbehave on purpose against the runner itself (started as its own process, as a user runs
/// it): a stderr flood without newlines, an endless stdout line, children that keep the pipe open or detach, a stray
/// blank line, terminal escape sequences. Each ends in bounded time and bounded memory with a named result, nothing
/// left running and nothing raw reaching the terminal. Peak memory is the runner's VmHWM, read until it exits.
/// </summary>
public sealed class HostilePluginTests
{
    private static readonly string Faults = Path.Combine(AppContext.BaseDirectory, "protocol-faults");
    private static readonly string Runner = Path.Combine(AppContext.BaseDirectory, "gupconformance");

    /// <summary>Far above what the runner needs (60–120 MB here), far below what an unbounded buffer reached (4–18 GB).</summary>
    private const long MemoryBoundKb = 400 * 1024;

    private sealed record RunnerRun(int Code, string Out, string Err, long PeakKb, TimeSpan Elapsed);

    private static RunnerRun RunRunner(params string[] args)
    {
        var psi = new ProcessStartInfo(Runner) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!p.WaitForExit(25))
        {
            peak = Math.Max(peak, HighWaterMarkKb(p.Id));
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"the runner did not end within 2 minutes: {string.Join(' ', args)}");
            }
        }

        p.WaitForExit();
        return new RunnerRun(p.ExitCode, stdout.Result, stderr.Result, peak, clock.Elapsed);
    }

    private static long HighWaterMarkKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    private static string[] Args(string script, params string[] more) =>
        ["--impl", "process:" + PythonInterpreter.CommandLine(Path.Combine(Faults, script)), "--profile", "linux-6.18", "--sequences", "3", "--length", "20", "--no-corpus", .. more];

    [Fact]
    public void A_stderr_flood_without_newlines_is_kept_as_a_bounded_tail_and_the_run_goes_on()
    {
        var r = RunRunner(Args("stderr_flood.py", "--timeout-ms", "120000"));

        // Three short sequences leave some rules unexercised (so the verdict is not the point); none of them fails.
        Assert.Contains("Sequences: 3 run, 0 failing", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("ProcessProtocolException", r.Out, StringComparison.Ordinal);
        Assert.True(r.PeakKb < MemoryBoundKb, $"peak {r.PeakKb} kB");
        Assert.DoesNotContain("Unhandled exception", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void An_endless_stdout_line_is_the_LineTooLong_fault_and_the_plugin_is_killed()
    {
        var r = RunRunner(Args("stdout_endless.py", "--timeout-ms", "120000"));

        Assert.True(r.Code == 1, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        Assert.Contains("ProcessProtocolException[LineTooLong]", r.Out, StringComparison.Ordinal);
        Assert.Contains($"over the limit of {ProcessLimits.MaxStdoutLineBytes.ToString(CultureInfo.InvariantCulture)} bytes", r.Out, StringComparison.Ordinal);
        Assert.True(r.PeakKb < MemoryBoundKb, $"peak {r.PeakKb} kB");
        Assert.Empty(Running(Path.Combine(Faults, "stdout_endless.py")));
    }

    [Fact]
    public void Children_that_keep_the_pipe_open_or_detach_are_ended_with_the_plugin()
    {
        var token = $"{Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture)}.25";
        var r = RunRunner("--impl", "process:" + PythonInterpreter.CommandLine(Path.Combine(Faults, "forks_children.py"), token), "--profile", "linux-6.18",
            "--sequences", "2", "--length", "20", "--no-corpus");

        Assert.True(r.Code == 1, $"exit {r.Code}\n{r.Out}\n{r.Err}");
        Assert.Contains("ProcessProtocolException[", r.Out, StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();
        while (Running(token).Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(50);
        }

        Assert.Empty(Running(token));
    }

    [Fact]
    public void A_stray_blank_line_while_a_batch_is_in_flight_is_the_ExtraOutput_fault()
    {
        using var factory = ProcessImplementationFactory.Start(PythonInterpreter.Launch(Path.Combine(Faults, "stray_line.py")));
        var r = ConformanceRun.Run(factory, Profiles.Get("linux-6.18"), new RunOptions { Sequences = 2, Length = 20, MaxShrinkRuns = 4, StopAtFirstFailure = true });

        var cx = Assert.Single(r.Counterexamples);
        Assert.Contains("protocol fault ExtraOutput", cx.Message, StringComparison.Ordinal);
        Assert.Contains("blank line", cx.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Control_bytes_from_a_plugin_reach_neither_the_terminal_nor_the_report_raw()
    {
        var md = Path.Combine(Path.GetTempPath(), $"gupc-hostile-{Guid.NewGuid():N}.md");
        try
        {
            var r = RunRunner(Args("control_bytes.py", "--report-md", md));

            Assert.True(r.Code == 1, $"exit {r.Code}\n{r.Out}\n{r.Err}");
            foreach (var text in new[] { r.Out, r.Err, File.ReadAllText(md) })
            {
                Assert.DoesNotContain('\x1b', text);
                Assert.DoesNotContain('\x07', text);
                Assert.DoesNotContain('\r', text);
            }

            Assert.Contains("\\x1b[2J", r.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("Verdict: linux-6.18 CONFORMANT", r.Out.Replace("\\x1b[1;32mVerdict", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(md);
        }
    }

    [Fact]
    public void Untrusted_text_keeps_printable_characters_and_escapes_the_rest()
    {
        Assert.Equal("plain text, ünïcode ✓", Untrusted.Printable("plain text, ünïcode ✓"));
        Assert.Equal("\\x1b[2J\\x0d\\x0a\\x07\\x7f\\x9b\\u202e", Untrusted.Printable("\x1b[2J\r\n\x07\x7f\x9b\u202e"));
        Assert.Equal(string.Empty, Untrusted.Printable(null));
    }

    /// <summary>Processes whose command line holds the text (the test runner's own excluded).</summary>
    private static List<int> Running(string text) =>
    [
        .. ProcFs.Pids()
            .Where(pid => pid != Environment.ProcessId)
            .Where(pid =>
            {
                try
                {
                    return ProcFs.Read(pid, "cmdline")?.Replace('\0', ' ').Contains(text, StringComparison.Ordinal) == true;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            }),
    ];
}
