using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Runner;
using GupConformance.Spec;
using GupConformance.Tests.Snapshots;

namespace GupConformance.Tests.Replay;

/// <summary>Traces, the regression corpus and replay: by trace file (also after a generator change) and by seed.</summary>
public sealed class TraceReplayTests : IDisposable
{
    private const string Impl = "broken-pin-bias-adds-refs";
    private const string ProfileId = "linux-6.18";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gupconformance-replay-" + Guid.NewGuid().ToString("N"));

    public TraceReplayTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IImplementationFactory Broken => BrokenImplementations.Find(Impl)!.Factory;

    private string Corpus => Path.Combine(_dir, "corpus");

    /// <summary>Runs the broken implementation with a corpus: the failure is written there as a trace.</summary>
    private (RunResult Result, string TracePath) Record()
    {
        var result = ReportSnapshotTests.RunBroken(Impl, ProfileId, ReportSnapshotTests.Budget with { CorpusDirectory = Corpus });
        Assert.NotEmpty(result.Counterexamples);
        Assert.All(result.Counterexamples, c => Assert.True(c.TracePath is not null && File.Exists(c.TracePath), $"no trace for #{c.Number}"));
        return (result, result.Counterexamples[0].TracePath!);
    }

    // That commands of every kind round-trip through the trace format is a property: SuiteLaws.A_sequence_round_trips_through_the_trace_format_and_replays_to_the_same_verdict.

    [Fact]
    public void A_failure_is_written_as_a_trace_with_commands_manifest_observations_rules_and_seeds()
    {
        var (result, path) = Record();
        var c = result.Counterexamples[0];
        var trace = TraceFile.FromJson(File.ReadAllText(path));
        Assert.Equal(Impl, trace.Implementation);
        Assert.Equal(ProfileId, trace.Profile);
        Assert.Equal(Impl, trace.Manifest.Implementation);
        Assert.Contains("Core", trace.Manifest.Facets);
        Assert.Equal(c.Commands, trace.Commands);
        Assert.Equal(c.ViolatedRules, trace.ViolatedRules);
        Assert.Equal(ReportSnapshotTests.Budget.Seed, trace.RunSeed);
        Assert.Equal(c.SequenceSeed, trace.SequenceSeedValue);
        Assert.Equal(c.Commands.Count, trace.Observations.Count);
        Assert.All(trace.Observations, o => Assert.NotNull(o.Fields));
        Assert.NotEmpty(trace.Mismatches);
        Assert.StartsWith($"{ProfileId}--{Impl}--{c.UnexpectedRules[0]}--", Path.GetFileName(path), StringComparison.Ordinal);

        // The console report and the Markdown report both say how to replay the trace.
        var command = $"gupconformance --replay {path.Replace('\\', '/')}";
        Assert.Equal(command, c.TraceReplayCommand);
        Assert.Contains("Replay the trace: " + command, ReportWriter.Render(result), StringComparison.Ordinal);
        Assert.Contains(command, MarkdownReport.Render(result), StringComparison.Ordinal);
    }

    [Fact]
    public void A_recorded_trace_replays_to_the_same_failure_after_a_generator_change()
    {
        var (recorded, path) = Record();

        // A different generator: other weights (no pinning moves at all, no steering toward edge cases), another seed.
        // It can no longer find the bug itself, so the failure can only come from the corpus, which is replayed before
        // generation.
        var weights = GeneratorWeights.Default with
        {
            MoveWeights = GeneratorWeights.Default.MoveWeights.ToDictionary(kv => kv.Key, kv => kv.Key == Moves.Map ? 1 : 0, StringComparer.Ordinal),
            DirectedPercent = 0,
        };
        var options = new RunOptions { Seed = 987654321, Sequences = 10, Length = 10, Weights = weights, CorpusDirectory = Corpus };
        var rerun = ConformanceRun.Run(Broken, Profiles.Get(ProfileId), options);
        Assert.Equal(recorded.Counterexamples.Count, rerun.CorpusReplayed);
        var c = Assert.Single(rerun.Counterexamples, x => x.FromTrace == path.Replace('\\', '/'));
        Assert.Equal(recorded.Counterexamples[0].ViolatedRules, c.ViolatedRules);
        Assert.Equal(recorded.Counterexamples[0].Commands, c.Commands);
        Assert.Equal(recorded.Counterexamples[0].Mismatches.Select(m => $"{m.Command}: {m.Field}={m.Observed}"), c.Mismatches.Select(m => $"{m.Command}: {m.Field}={m.Observed}"));
        Assert.False(rerun.Conformant);

        // Without the corpus the changed generator does not catch it: the trace is what keeps the regression.
        var without = ConformanceRun.Run(Broken, Profiles.Get(ProfileId), options with { CorpusDirectory = null });
        Assert.DoesNotContain(without.Counterexamples, x => x.UnexpectedRules.Intersect(c.UnexpectedRules).Any());

        // The reference implementation passes the same trace.
        var reference = TraceReplay.ReplayFile(new KernelStyleFactory(), path, new RunOptions());
        Assert.Equal(ReplayVerdict.Passed, reference.Verdict);
        var again = TraceReplay.ReplayFile(Broken, path, new RunOptions());
        Assert.Equal(ReplayVerdict.SameFailure, again.Verdict);
    }

    [Fact]
    public void The_runner_replays_a_single_trace_file()
    {
        var (_, path) = Record();
        var trace = TraceFile.FromJson(File.ReadAllText(path));

        // The runner knows the reference implementation by name: replaying against it passes (exit 0) ...
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = Program.Run(["--replay", path, "--impl", "reference"], stdout, stderr);
        Assert.True(rc == Program.ExitConformant, stdout + "\n" + stderr);
        Assert.Contains($"it passes now (recorded: {string.Join(", ", trace.Signature)})", stdout.ToString(), StringComparison.Ordinal);

        // ... and a trace of an implementation the runner knows replays against it by default: record one from the
        // reference's own name with the broken commands, which the reference passes too.
        var retagged = Path.Combine(_dir, "retagged.trace.json");
        File.WriteAllText(retagged, (trace with { Implementation = "reference" }).ToJson());
        stdout = new StringWriter();
        Assert.Equal(Program.ExitConformant, Program.Run(["--replay", retagged], stdout, new StringWriter()));
        Assert.Contains("Implementation: reference", stdout.ToString(), StringComparison.Ordinal);

        // An implementation the runner does not know: a clear error and exit 2.
        Assert.DoesNotContain(Impl, Program.Implementations.Keys);
        stderr = new StringWriter();
        Assert.Equal(Program.ExitBadArguments, Program.Run(["--replay", path], new StringWriter(), stderr));
        Assert.Contains($"recorded from '{Impl}', which cannot be started here", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("--impl", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_trace_recorded_from_a_process_plugin_replays_by_starting_the_plugin_again()
    {
        // The trace keeps the plugin's --impl id (process:"PROGRAM ARGS"), which is all the runner needs to start it.
        var (_, path) = Record();
        var plugin = "process:" + PythonInterpreter.CommandLine(Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py"));
        var retagged = Path.Combine(_dir, "plugin.trace.json");
        File.WriteAllText(retagged, (TraceFile.FromJson(File.ReadAllText(path)) with { Implementation = plugin }).ToJson());
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        // The recorded id is a command line: the replay refuses to run it unless told to trust it (or given --impl).
        Assert.Equal(Program.ExitBadArguments, Program.Run(["--replay", retagged], stdout, stderr));
        Assert.Contains("--trust-trace-impl", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(plugin, stderr.ToString(), StringComparison.Ordinal);

        stderr = new StringWriter();
        var rc = Program.Run(["--replay", retagged, "--trust-trace-impl"], stdout, stderr);
        Assert.True(rc == Program.ExitConformant, stdout + "\n" + stderr);
        Assert.Contains("Implementation: " + plugin, stdout.ToString(), StringComparison.Ordinal);

        // A plugin that cannot start is named, with the reason, and exit 2.
        File.WriteAllText(retagged, (TraceFile.FromJson(File.ReadAllText(path)) with { Implementation = "process:/no/such/program" }).ToJson());
        stderr = new StringWriter();
        Assert.Equal(Program.ExitBadArguments, Program.Run(["--replay", retagged, "--trust-trace-impl"], new StringWriter(), stderr));
        Assert.Contains("recorded from 'process:/no/such/program', which cannot be started here", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Replaying_by_seed_still_reproduces_the_same_counterexample()
    {
        var a = ReportSnapshotTests.RunBroken(Impl, ProfileId);
        var b = ReportSnapshotTests.RunBroken(Impl, ProfileId);
        Assert.Equal(a.Counterexamples[0].Commands, b.Counterexamples[0].Commands);
        Assert.Equal(MarkdownReport.Render(a), MarkdownReport.Render(b));
    }

    [Fact]
    public void An_unreadable_corpus_trace_is_a_warning_and_not_a_verdict()
    {
        Directory.CreateDirectory(Corpus);
        File.WriteAllText(Path.Combine(Corpus, "bad.trace.json"), "{ not json");
        var r = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Default, new RunOptions { Sequences = 2, Length = 5, CorpusDirectory = Corpus });
        Assert.Contains(r.Warnings, w => w.Contains("bad.trace.json", StringComparison.Ordinal) && w.Contains("rm ", StringComparison.Ordinal));
        Assert.Empty(r.Problems);
    }

    [Fact]
    public void Two_runs_with_the_same_seed_write_byte_identical_Markdown_and_JSON_reports()
    {
        byte[][] Run(string tag, params string[] extra)
        {
            var md = Path.Combine(_dir, tag + ".md");
            var json = Path.Combine(_dir, tag + ".json");
            string[] args = ["--profile", "linux-6.5", "--seed", "7", "--sequences", "20", "--length", "20", "--report-md", md, "--report-json", json, .. extra];
            Program.Run(args, new StringWriter(), new StringWriter());
            return [File.ReadAllBytes(md), File.ReadAllBytes(json)];
        }

        var corpus = Path.Combine(_dir, "runner-corpus");
        var first = Run("a", "--corpus", corpus);
        var second = Run("b", "--corpus", corpus);
        Assert.Equal(first[0], second[0]);
        Assert.Equal(first[1], second[1]);
        Assert.DoesNotContain(_dir, System.Text.Encoding.UTF8.GetString(first[0]), StringComparison.Ordinal);

        // And through the engine, for a failing implementation (counterexamples included).
        var x = ReportSnapshotTests.RunBroken("broken-api-get-accepts-pin", "linux-6.8");
        var y = ReportSnapshotTests.RunBroken("broken-api-get-accepts-pin", "linux-6.8");
        Assert.Equal(JsonReport.Render(x), JsonReport.Render(y));
        Assert.Equal(MarkdownReport.Render(x), MarkdownReport.Render(y));
    }
}
