using System.Diagnostics;
using System.Text.Json.Nodes;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Runner;
using GupConformance.Spec;
using GupConformance.Tests.Snapshots;

namespace GupConformance.Tests.Replay;

/// <summary>
/// Damaged traces, damaged corpora and output paths that cannot be written: each is refused up front with one line
/// naming the cause (exit 2), or for a corpus file a warning naming it and how to remove it; never an unhandled
/// exception, a hang, a lost run or a verdict about the implementation. Also the shrinker's time budget.
/// </summary>
public sealed class DamagedInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gupconformance-damaged-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Corpus => Path.Combine(_dir, "corpus");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void OneLineError(int code, string err, string expected)
    {
        Assert.Equal(Program.ExitBadArguments, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    /// <summary>A real trace of a broken implementation, as JSON to damage.</summary>
    private JsonObject RecordedTrace()
    {
        var r = ReportSnapshotTests.RunBroken("broken-pin-bias-adds-refs", "linux-6.18", ReportSnapshotTests.Budget with { CorpusDirectory = Path.Combine(_dir, "recorded") });
        return JsonNode.Parse(File.ReadAllText(r.Counterexamples[0].TracePath!))!.AsObject();
    }

    private string Write(string name, string text)
    {
        Directory.CreateDirectory(Corpus);
        var path = Path.Combine(Corpus, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("--replay needs a trace file path", "--replay", "")]
    [InlineData("--report-md needs a file path", "--report-md", "")]
    [InlineData("--report-json needs a file path", "--report-json", "")]
    [InlineData("--emit-reproducer needs a folder path", "--emit-reproducer", "")]
    [InlineData("--corpus needs a folder path", "--corpus", "")]
    public void An_empty_path_is_refused_with_one_line(string expected, params string[] args)
    {
        var (code, _, err) = Run([.. args, "--sequences", "1"]);
        OneLineError(code, err, expected);
    }

    [Theory]
    [InlineData("commands", "'commands' is missing or null")]
    [InlineData("manifest", "'manifest' is missing or null")]
    [InlineData("violatedRules", "'violatedRules' is null")]
    [InlineData("observations", "'observations' is null")]
    public void A_trace_with_a_required_field_null_is_refused_by_replay_and_skipped_with_a_warning_by_the_corpus(string field, string expected)
    {
        var json = RecordedTrace();
        json[field] = null;
        var path = Write($"null-{field}.trace.json", json.ToJsonString());

        var (code, _, err) = Run("--replay", path, "--impl", "reference");
        OneLineError(code, err, expected);

        var (runCode, output, runErr) = Run("--profile", "linux-6.18", "--corpus", Corpus);
        Assert.True(runCode == Program.ExitConformant, output + runErr);
        Assert.Contains($"Warning: corpus trace {path} was skipped", output, StringComparison.Ordinal);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Contains("rm ", output, StringComparison.Ordinal);
        Assert.Contains("Verdict: linux-6.18: CONFORMANT", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trace_with_no_commands_is_refused_not_reported_as_passing()
    {
        var json = RecordedTrace();
        json["commands"] = new JsonArray();
        var path = Write("empty-commands.trace.json", json.ToJsonString());
        var (code, _, err) = Run("--replay", path, "--impl", "reference");
        OneLineError(code, err, "'commands' is empty");
    }

    [Fact]
    public void Every_kind_of_unreadable_corpus_file_is_a_warning_and_the_reference_stays_conformant()
    {
        var json = RecordedTrace();
        Write("truncated.trace.json", json.ToJsonString()[..200]);
        Write("empty.trace.json", string.Empty);
        File.WriteAllBytes(Path.Combine(Corpus, "binary.trace.json"), [0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe]);
        var wrongFormat = json.DeepClone().AsObject();
        wrongFormat["format"] = "gupconformance-trace/99";
        Write("wrong-format.trace.json", wrongFormat.ToJsonString());
        var unknownOp = json.DeepClone().AsObject();
        unknownOp["commands"]![0]!["op"] = "teleport";
        Write("unknown-op.trace.json", unknownOp.ToJsonString());
        File.CreateSymbolicLink(Path.Combine(Corpus, "loop-a.trace.json"), Path.Combine(Corpus, "loop-b.trace.json"));
        File.CreateSymbolicLink(Path.Combine(Corpus, "loop-b.trace.json"), Path.Combine(Corpus, "loop-a.trace.json"));
        File.CreateSymbolicLink(Path.Combine(Corpus, "dangling.trace.json"), Path.Combine(_dir, "nothing-here"));
        File.CreateSymbolicLink(Path.Combine(Corpus, "zero.trace.json"), "/dev/zero");
        MakeFifo(Path.Combine(Corpus, "fifo.trace.json"));

        var clock = Stopwatch.StartNew();
        var r = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Default, new RunOptions { Sequences = 5, Length = 10, CorpusDirectory = Corpus });

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        Assert.Empty(r.Problems);
        foreach (var name in new[] { "truncated", "empty", "binary", "wrong-format", "unknown-op", "loop-a", "loop-b", "dangling", "zero", "fifo" })
        {
            Assert.Contains(r.Warnings, w => w.Contains($"{name}.trace.json", StringComparison.Ordinal) && w.Contains("rm ", StringComparison.Ordinal));
        }

        Assert.Equal(10, r.Warnings.Count);
    }

    [Fact]
    public void Replay_reads_only_regular_files_of_bounded_size()
    {
        var (code, _, err) = Run("--replay", "/dev/zero", "--impl", "reference");
        OneLineError(code, err, "empty or not a regular file");

        var fifo = Path.Combine(_dir, "fifo.trace.json");
        MakeFifo(fifo);
        (code, _, err) = Run("--replay", fifo, "--impl", "reference");
        OneLineError(code, err, "empty or not a regular file");

        var big = Path.Combine(_dir, "big.trace.json");
        using (var f = File.Create(big))
        {
            f.SetLength(TraceFile.MaxFileBytes + 1);
        }

        (code, _, err) = Run("--replay", big, "--impl", "reference");
        OneLineError(code, err, "over the 67108864-byte limit");
    }

    [Fact]
    public void A_trace_naming_a_command_line_is_not_run_without_trust()
    {
        var json = RecordedTrace();
        var marker = Path.Combine(_dir, "was-run");
        json["implementation"] = $"process:/bin/sh -c 'touch {marker}'";
        var path = Write("hostile.trace.json", json.ToJsonString());

        var (code, _, err) = Run("--replay", path);

        OneLineError(code, err, "--trust-trace-impl");
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("--report-md", "is a folder")]
    [InlineData("--report-json", "is a folder")]
    public void A_report_path_that_is_a_folder_is_refused_before_the_run(string option, string expected)
    {
        var (code, output, err) = Run("--profile", "linux-6.18", option, _dir);
        OneLineError(code, err, expected);
        Assert.Empty(output);
    }

    [Fact]
    public void Report_paths_under_a_file_or_where_nothing_can_be_created_are_refused_before_the_run()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var (code, output, err) = Run("--profile", "linux-6.18", "--report-md", Path.Combine(file, "sub", "r.md"));
        OneLineError(code, err, "which is a file, not a folder");
        Assert.Empty(output);

        (code, output, err) = Run("--profile", "linux-6.18", "--report-json", "/proc/gupconformance-report.json");
        OneLineError(code, err, "cannot be written");
        Assert.Empty(output);

        (code, _, err) = Run("--profile", "linux-6.18", "--emit-reproducer", Path.Combine(file, "repro"));
        OneLineError(code, err, "which is a file, not a folder");
    }

    [Fact]
    public void A_corpus_that_cannot_hold_traces_is_refused_even_when_the_implementation_conforms()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var (code, _, err) = Run("--profile", "linux-6.18", "--corpus", file);
        OneLineError(code, err, "is a file, not a folder");

        (code, _, err) = Run("--profile", "linux-6.18", "--corpus", Path.Combine(file, "corpus"));
        OneLineError(code, err, "which is a file, not a folder");

        (code, _, err) = Run("--profile", "linux-6.18", "--corpus", "/proc/gupconformance-corpus");
        OneLineError(code, err, "cannot be written");
    }

    [Fact]
    public void A_long_implementation_id_gives_a_short_trace_file_name()
    {
        var r = ReportSnapshotTests.RunBroken("broken-pin-bias-adds-refs", "linux-6.18", ReportSnapshotTests.Budget with { CorpusDirectory = Corpus });
        var trace = TraceFile.Load(r.Counterexamples[0].TracePath!) with { Implementation = "process:" + new string('x', 5000) };

        var name = RegressionCorpus.FileName(trace);
        var written = RegressionCorpus.Write(Corpus, trace);

        Assert.True(name.Length < 120, name);
        Assert.True(File.Exists(written));
        Assert.NotEqual(name, RegressionCorpus.FileName(trace with { Implementation = "process:" + new string('x', 4999) + "y" }));
    }

    [Fact]
    public void Shrinking_stops_at_its_time_budget_and_says_the_counterexample_may_not_be_minimal()
    {
        var broken = BrokenImplementations.Find("broken-pin-bias-adds-refs")!.Factory;
        var r = ConformanceRun.Run(broken, Profiles.Get("linux-6.18"), new RunOptions
        {
            Sequences = 20,
            StopAtFirstFailure = true,
            MaxCounterexamples = 1,
            ShrinkAttempts = 1,
            MaxShrinkTime = TimeSpan.Zero,
        });

        var c = Assert.Single(r.Counterexamples);
        Assert.Contains("its time budget", c.ShrinkCutShort, StringComparison.Ordinal);
        Assert.Contains("Shrinking was cut short after 0 s (its time budget)", ReportWriter.RenderCounterexample(c), StringComparison.Ordinal);
        Assert.Contains("\"shrinkCutShort\"", JsonReport.Render([r], new ReportOptions()), StringComparison.Ordinal);
    }

    private static void MakeFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
