using System.Text.Json;
using System.Xml.Linq;
using GupConformance.Engine;
using GupConformance.Engine.Live;
using GupConformance.Oracles.Live;
using GupConformance.Spec;
using GupConformance.Spec.Live;

namespace GupConformance.Tests.Live;

/// <summary>
/// Live runs in the main job's formats: Markdown, JSON (Spec/live-report.schema.json), JUnit XML, and trace files that
/// round-trip. Built on a simulated kernel of the 6.18 era judged by the 6.4 model, so there is a counterexample to show
/// (the era difference in DIO retention: pins against references).
/// </summary>
public sealed class LiveReportTests
{
    private static readonly LiveEnvironment Machine = new("6.18.0-simulated", true, null, HasThp: true, HasMthp64: true, HugetlbPool: 4, new Dictionary<string, string>())
    {
        Probes = [new("kernel", "6.18.0-simulated"), new("zero page on read fault", "yes")],
    };

    private static LiveRunResult FailingRun()
    {
        using var kernel = new SimulatedLiveKernel(Machine, LiveProfile.Linux618);
        var result = new LiveConformanceRun(kernel, LiveProfile.Linux64).Run(new LiveRunOptions { Sequences = 30, Length = 40, Seed = 5 });
        Assert.Equal(LiveVerdict.Fail, result.Verdict);
        Assert.NotEmpty(result.Counterexamples);
        return result;
    }

    [Fact]
    public void The_live_Markdown_report_shows_the_environment_the_rules_and_the_counterexample()
    {
        var r = FailingRun();
        var md = LiveReports.Markdown(r);
        Assert.Contains("| Live profile | `linux-6.4` |", md, StringComparison.Ordinal);
        Assert.Contains("| zero page on read faults | yes |", md, StringComparison.Ordinal);
        Assert.Contains("| `LIVE-DIO-PIN` | dio | Fail |", md, StringComparison.Ordinal);
        Assert.Contains("## Counterexample 1: LIVE-DIO-PIN", md, StringComparison.Ordinal);
        Assert.Contains("observed `", md, StringComparison.Ordinal);
        Assert.Equal(md, LiveReports.Markdown(FailingRun()));
    }

    [Fact]
    public void The_live_JSON_report_follows_its_schema()
    {
        var json = LiveReports.Json(FailingRun());
        using var doc = JsonDocument.Parse(json);
        Assert.Empty(Replay.ReportSchemaTests.ValidateAgainst("live-report.schema.json", doc.RootElement));
        Assert.Equal("Fail", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(LiveRules.All.Count, doc.RootElement.GetProperty("rules").GetArrayLength());

        using var bad = JsonDocument.Parse("""{ "format": "gupconformance-report/1", "verdict": "Maybe" }""");
        Assert.NotEmpty(Replay.ReportSchemaTests.ValidateAgainst("live-report.schema.json", bad.RootElement));
    }

    [Fact]
    public void The_live_JUnit_report_has_one_case_per_live_rule_and_the_failure_carries_the_counterexample()
    {
        var xml = XDocument.Parse(JUnitReport.Render(FailingRun()));
        var cases = xml.Root!.Element("testsuite")!.Elements("testcase").ToList();
        Assert.Equal(LiveRules.All.Count, cases.Count);
        var failing = cases.Single(c => ((string)c.Attribute("name")!).StartsWith("LIVE-DIO-PIN:", StringComparison.Ordinal));
        Assert.Contains("MISMATCH dacq", failing.Element("failure")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void A_live_trace_round_trips_and_is_told_apart_from_a_core_trace()
    {
        var r = FailingRun();
        var trace = LiveTraceFile.From(r.Counterexamples[0], r, "gupconformance --live --seed 5");
        var json = trace.ToJson();

        Assert.True(LiveTraceFile.IsLiveTrace(json));
        var back = LiveTraceFile.FromJson(json);
        Assert.Equal(trace.LiveCommands, back.LiveCommands);
        Assert.Equal(trace.ViolatedRules, back.ViolatedRules);
        Assert.Equal(Machine.ZeroPageOnRead, back.Environment.ZeroPageOnRead);
        Assert.Equal(Machine.HugetlbPool, back.Environment.HugetlbPool);
        Assert.EndsWith(LiveTraceFile.Extension, trace.FileName(), StringComparison.Ordinal);
        Assert.Throws<TraceFileException>(() => TraceFile.FromJson(json));
        Assert.Throws<TraceFileException>(() => LiveTraceFile.FromJson(json.Replace("\"liveProfile\"", "\"notTheProfile\"", StringComparison.Ordinal)));
    }
}
