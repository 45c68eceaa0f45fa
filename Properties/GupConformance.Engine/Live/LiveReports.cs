using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GupConformance.Spec;

namespace GupConformance.Engine.Live;

/// <summary>
/// A live run's reports in the formats of the main job: Markdown (same layout: header table, environment, rule table,
/// counterexamples with step tables) and JSON (<c>Spec/live-report.schema.json</c>, the live extension of the report
/// format: the same rule-row and mismatch shapes, plus the machine's probed facts). JUnit XML is
/// <see cref="JUnitReport.Render(LiveRunResult, ReportOptions?)"/>. Durations only with <see cref="ReportOptions.IncludeTimings"/>.
/// </summary>
public static class LiveReports
{
    public const string FormatId = "gupconformance-live-report/1";

    public const string SchemaId = "https://gupconformance.example/schema/live-report-1.json";

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Cell(string s) => Plugins.Untrusted.Printable(s).Replace("|", "\\|", StringComparison.Ordinal);

    public static string Markdown(LiveRunResult r, ReportOptions? options = null)
    {
        options ??= ReportOptions.Default;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# GupConformance live report: {r.Environment.KernelRelease}\n\n");
        sb.Append("| | |\n|---|---|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Suite | {SuiteVersion.Value} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Kernel | `{Cell(r.Environment.KernelRelease)}` |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Live profile | `{r.ProfileId}` |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Verdict | **{r.Verdict}**{(r.Reason is null ? string.Empty : " — " + Cell(r.Reason))} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Seed | {r.Options.Seed.ToString(CultureInfo.InvariantCulture)} ({N(r.Options.Sequences)} sequences × {N(r.Options.Length)} commands) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Run | {N(r.SequencesRun)} sequences, {N(r.Commands)} commands, {N(r.ChecksCompared)} observations compared{(options.IncludeTimings ? $", {r.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s" : string.Empty)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Pins outstanding | {N(r.OutstandingBefore)} before, {N(r.OutstandingAfter)} after; sequences leaving pins behind: {N(r.CleanupLeaks)} |\n");

        sb.Append("\n## Environment\n\n| Fact | Value |\n|---|---|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| zero page on read faults | {(r.Environment.ZeroPageOnRead ? "yes" : "no")} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| THP / 64 KiB mTHP / hugetlb pool | {(r.Environment.HasThp ? "yes" : "no")} / {(r.Environment.HasMthp64 ? "yes" : "no")} / {r.Environment.HugetlbPool.ToString(CultureInfo.InvariantCulture)} |\n");
        foreach (var (k, v) in r.Environment.Probes)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {Cell(k)} | {Cell(v)} |\n");
        }

        foreach (var (k, v) in r.Environment.Missing.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| not available: {Cell(k)} | {Cell(v)} |\n");
        }

        sb.Append("\n## Rules\n\n| Rule | Group | Verdict | Exercised |\n|---|---|---|---|\n");
        foreach (var rule in LiveRules.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| `{rule.Id}` | {rule.Group} | {Cell(r.RuleVerdict(rule.Id))} | {N(r.RuleCounts.GetValueOrDefault(rule.Id))} |\n");
        }

        var number = 0;
        foreach (var c in r.Counterexamples)
        {
            number++;
            sb.Append(CultureInfo.InvariantCulture, $"\n## Counterexample {number.ToString(CultureInfo.InvariantCulture)}: {string.Join(", ", c.ViolatedRules)}\n\n");
            sb.Append(CultureInfo.InvariantCulture, $"- {N(c.Original.Count)} commands shrunk to {N(c.Shrunk.Count)} in {N(c.ShrinkRuns)} runs{(c.Reproduced ? string.Empty : "; NOT reproduced on re-execution (shown as first observed)")}\n\n");
            sb.Append("| # | Command | Model | Mismatch |\n|---|---|---|---|\n");
            foreach (var s in c.Steps)
            {
                var mismatch = string.Join("<br>", s.Mismatches.Select(m => $"`{m.Field}`: observed `{Cell(m.Observed ?? Oracles.FieldCheck.Absent)}`, allowed `{Cell(string.Join(" | ", m.Allowed))}`"));
                sb.Append(CultureInfo.InvariantCulture, $"| {s.Index.ToString(CultureInfo.InvariantCulture)} | `{Cell(s.Command)}` | {Cell(s.Change)} | {mismatch} |\n");
            }

            sb.Append('\n');
            foreach (var id in c.ViolatedRules)
            {
                if (LiveRules.Find(id) is { } rule)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"- `{id}`: {rule.Title}. If this fails, check {rule.IfFails}\n");
                }
            }
        }

        foreach (var n in r.Notes)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n{Cell(n)}\n");
        }

        return sb.ToString();
    }

    public static string Json(LiveRunResult r, ReportOptions? options = null)
    {
        options ??= ReportOptions.Default;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", SchemaId);
            w.WriteString("format", FormatId);
            w.WriteString("suiteVersion", SuiteVersion.Value);
            w.WriteString("kernel", r.Environment.KernelRelease);
            w.WriteString("liveProfile", r.ProfileId);
            w.WriteString("verdict", r.Verdict.ToString());
            if (r.Reason is { } reason)
            {
                w.WriteString("reason", reason);
            }

            w.WriteStartObject("options");
            w.WriteString("seed", r.Options.Seed.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("sequences", r.Options.Sequences);
            w.WriteNumber("length", r.Options.Length);
            w.WriteEndObject();

            w.WriteStartObject("environment");
            w.WriteBoolean("zeroPageOnRead", r.Environment.ZeroPageOnRead);
            w.WriteBoolean("thp", r.Environment.HasThp);
            w.WriteBoolean("mthp64", r.Environment.HasMthp64);
            w.WriteNumber("hugetlbPool", r.Environment.HugetlbPool);
            w.WriteNumber("pageSize", r.Environment.PageSize);
            w.WriteStartObject("probes");
            foreach (var (k, v) in r.Environment.Probes)
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
            w.WriteStartObject("missing");
            foreach (var (k, v) in r.Environment.Missing.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("totals");
            w.WriteNumber("sequencesRun", r.SequencesRun);
            w.WriteNumber("commandsExecuted", r.Commands);
            w.WriteNumber("observationsCompared", r.ChecksCompared);
            w.WriteNumber("outstandingBefore", r.OutstandingBefore);
            w.WriteNumber("outstandingAfter", r.OutstandingAfter);
            w.WriteNumber("cleanupLeaks", r.CleanupLeaks);
            if (options.IncludeTimings)
            {
                w.WriteNumber("elapsedMs", (long)r.Elapsed.TotalMilliseconds);
            }

            w.WriteEndObject();

            w.WriteStartArray("rules");
            foreach (var rule in LiveRules.All)
            {
                var verdict = r.RuleVerdict(rule.Id);
                w.WriteStartObject();
                w.WriteString("id", rule.Id);
                w.WriteString("group", rule.Group);
                w.WriteString("outcome", verdict switch
                {
                    "Pass" => "pass",
                    "Fail" => "fail",
                    "Not exercised" => "not-exercised",
                    _ => "not-applicable",
                });
                w.WriteNumber("exercised", r.RuleCounts.GetValueOrDefault(rule.Id));
                w.WriteString("note", verdict);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("counterexamples");
            foreach (var c in r.Counterexamples)
            {
                w.WriteStartObject();
                w.WriteNumber("originalLength", c.Original.Count);
                w.WriteNumber("shrinkRuns", c.ShrinkRuns);
                w.WriteBoolean("reproduced", c.Reproduced);
                w.WriteStartArray("violatedRules");
                foreach (var id in c.ViolatedRules)
                {
                    w.WriteStringValue(id);
                }

                w.WriteEndArray();
                w.WriteStartArray("steps");
                foreach (var s in c.Steps)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", s.Index);
                    w.WriteString("command", s.Command);
                    w.WriteString("change", s.Change);
                    w.WriteStartObject("observed");
                    foreach (var (k, v) in s.Observed.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    {
                        w.WriteString(k, v);
                    }

                    w.WriteEndObject();
                    w.WriteStartArray("mismatches");
                    foreach (var m in s.Mismatches)
                    {
                        w.WriteStartObject();
                        w.WriteString("field", m.Field);
                        if (m.Observed is null)
                        {
                            w.WriteNull("observed");
                        }
                        else
                        {
                            w.WriteString("observed", m.Observed);
                        }

                        w.WriteStartArray("allowed");
                        foreach (var a in m.Allowed)
                        {
                            w.WriteStringValue(a);
                        }

                        w.WriteEndArray();
                        w.WriteStartArray("rules");
                        foreach (var id in m.Rules)
                        {
                            w.WriteStringValue(id);
                        }

                        w.WriteEndArray();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("notes");
            foreach (var n in r.Notes)
            {
                w.WriteStringValue(n);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }
}
