using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Renders run results as JSON following <c>Spec/report.schema.json</c> (<see cref="SchemaId"/>). Deterministic:
/// fixed property order, catalogue order for rules, ordinal order for maps, LF, no timestamps or durations
/// unless <see cref="ReportOptions.IncludeTimings"/>. Commands appear as their trace records (<see cref="TraceJson"/>).
/// </summary>
public static class JsonReport
{
    public const string SchemaId = "https://gupconformance.example/schema/report-1.json";

    public const string FormatId = "gupconformance-report/1";

    public static string Render(RunResult result, ReportOptions? options = null) => Render([result], options);

    public static string Render(IReadOnlyList<RunResult> results, ReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        options ??= ReportOptions.Default;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", SchemaId);
            w.WriteString("format", FormatId);
            w.WriteString("suiteVersion", SuiteVersion.Value);
            w.WriteBoolean("conformant", results.All(r => r.Conformant));
            w.WriteStartArray("runs");
            foreach (var r in results)
            {
                WriteRun(w, r, options);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    public static string OutcomeId(Outcome o) => o switch
    {
        Outcome.Pass => "pass",
        Outcome.Fail => "fail",
        Outcome.NotApplicable => "not-applicable",
        _ => "expected-divergence",
    };

    private static void WriteRun(Utf8JsonWriter w, RunResult r, ReportOptions options)
    {
        w.WriteStartObject();
        w.WriteString("implementation", r.Implementation);
        w.WriteStartObject("profile");
        w.WriteString("id", r.Profile.Id);
        w.WriteString("title", r.Profile.Title);
        w.WriteBoolean("proposal", r.Profile.IsProposal);
        WriteStrings(w, "facets", TraceFile.FacetNames(r.Profile.Facets));
        w.WriteEndObject();

        w.WriteStartObject("manifest");
        w.WriteString("implementation", r.Manifest.Implementation);
        w.WriteString("profile", r.Manifest.ProfileId);
        WriteStrings(w, "facets", TraceFile.FacetNames(r.Manifest.Facets));
        WriteStrings(w, "checkedFacets", TraceFile.FacetNames(r.Manifest.Facets & r.Profile.Facets));
        w.WriteStartArray("expectedDivergences");
        foreach (var d in r.Manifest.Divergences)
        {
            w.WriteStartObject();
            w.WriteString("rule", d.RuleId);
            w.WriteString("reason", d.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("options");
        w.WriteString("seed", r.Options.Seed.ToString(CultureInfo.InvariantCulture));
        w.WriteNumber("sequences", r.Options.Sequences);
        w.WriteNumber("length", r.Options.Length);
        w.WriteNumber("timeoutMs", (long)r.Options.CommandTimeout.TotalMilliseconds);
        w.WriteEndObject();
        w.WriteString("replayCommand", r.ReplayCommand);
        w.WriteBoolean("conformant", r.Conformant);

        w.WriteStartObject("outcomes");
        foreach (var o in Enum.GetValues<Outcome>())
        {
            w.WriteNumber(OutcomeId(o), r.Count(o));
        }

        w.WriteEndObject();

        w.WriteStartObject("totals");
        w.WriteNumber("sequencesRun", r.SequencesRun);
        w.WriteNumber("failingSequences", r.FailingSequences);
        w.WriteNumber("expectedDivergenceSequences", r.ExpectedDivergenceSequences);
        w.WriteNumber("commandsExecuted", r.CommandsExecuted);
        w.WriteNumber("shrinkRuns", r.ShrinkRuns);
        w.WriteNumber("corpusReplayed", r.CorpusReplayed);
        if (options.IncludeTimings)
        {
            w.WriteNumber("elapsedMs", (long)r.Elapsed.TotalMilliseconds);
        }

        w.WriteEndObject();

        w.WriteStartArray("rules");
        foreach (var c in CoverageView.Of(r))
        {
            var v = r.Verdicts.First(x => ReferenceEquals(x.Rule, c.Rule));
            w.WriteStartObject();
            w.WriteString("id", c.Rule.Id);
            w.WriteString("level", ReportWriter.LevelText(c.Rule.Level));
            w.WriteString("group", c.Rule.Group);
            w.WriteString("facet", c.Rule.Facet.ToString());
            w.WriteString("outcome", OutcomeId(v.Outcome));
            w.WriteNumber("exercised", v.Exercised);
            w.WriteNumber("violations", v.Violations);
            w.WriteString("note", v.Note);
            w.WriteStartObject("byCommand");
            foreach (var kv in c.ByCommand.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteNumber(kv.Key, kv.Value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("commandsByKind");
        foreach (var kv in r.CommandsByKind.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(kv.Key, kv.Value);
        }

        w.WriteEndObject();
        WriteStrings(w, "problems", r.Problems);
        if (r.Warnings.Count > 0)
        {
            WriteStrings(w, "warnings", r.Warnings);
        }

        w.WriteStartArray("counterexamples");
        foreach (var c in r.Counterexamples)
        {
            WriteCounterexample(w, c);
        }

        w.WriteEndArray();
        ShardJson.WriteRunTail(w, r);
        w.WriteEndObject();
    }

    private static void WriteCounterexample(Utf8JsonWriter w, Counterexample c)
    {
        w.WriteStartObject();
        w.WriteNumber("number", c.Number);
        w.WriteString("kind", TraceFile.KindText(c.Kind));
        w.WriteString("implementation", c.Implementation);
        w.WriteString("profile", c.ProfileId);
        w.WriteString("runSeed", c.RunSeed.ToString(CultureInfo.InvariantCulture));
        if (c.SequenceSeed is { } s)
        {
            w.WriteString("sequenceSeed", "0x" + s.ToString("x16", CultureInfo.InvariantCulture));
        }

        w.WriteNumber("originalLength", c.OriginalLength);
        w.WriteNumber("shrinkRuns", c.ShrinkRuns);
        if (c.ShrinkCutShort is { } cut)
        {
            w.WriteString("shrinkCutShort", cut);
        }
        w.WriteBoolean("reproduced", c.Reproduced);
        if (c.NotReproducedNote is { } notReproduced)
        {
            w.WriteString("notReproduced", notReproduced);
        }

        if (c.Cause is { } cause)
        {
            w.WriteString("cause", cause);
            WriteStrings(w, "consequences", c.Consequences);
            if (c.CauseAlsoFits.Count > 0)
            {
                WriteStrings(w, "causeAlsoFits", c.CauseAlsoFits);
            }
        }
        w.WriteString("replayCommand", c.ReplayCommand);
        if (c.FromTrace is { } from)
        {
            w.WriteString("fromTrace", from);
        }

        if (c.TracePath is { } path)
        {
            w.WriteString("trace", path);
        }

        if (c.TraceReplayCommand is { } tr)
        {
            w.WriteString("traceReplayCommand", tr);
        }

        w.WriteStartArray("commands");
        foreach (var cmd in c.Commands)
        {
            w.WriteRawValue(TraceJson.Command(cmd), skipInputValidation: false);
        }

        w.WriteEndArray();

        w.WriteStartArray("steps");
        foreach (var st in c.Steps)
        {
            w.WriteStartObject();
            w.WriteNumber("action", st.Action);
            w.WriteString("command", st.Command);
            if (st.Observed is { } obs)
            {
                w.WriteStartObject("observed");
                foreach (var kv in obs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.WriteString(kv.Key, kv.Value);
                }

                w.WriteEndObject();
            }

            w.WriteString("change", st.Change);
            WriteStrings(w, "stateChanges", st.StateChanges);
            WriteStrings(w, "exercised", st.Exercised);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (c.FailedAction is { } fa)
        {
            w.WriteNumber("failedAction", fa);
        }

        if (c.FailedCommand is { } fc)
        {
            w.WriteString("failedCommand", fc);
        }

        w.WriteStartArray("mismatches");
        foreach (var m in c.Mismatches)
        {
            w.WriteStartObject();
            w.WriteString("command", m.Command);
            w.WriteString("field", m.Field);
            if (m.Observed is null)
            {
                w.WriteNull("observed");
            }
            else
            {
                w.WriteString("observed", m.Observed);
            }

            WriteStrings(w, "allowed", m.Allowed);
            WriteStrings(w, "rules", m.Rules);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        WriteStrings(w, "violatedRules", c.ViolatedRules);
        WriteStrings(w, "unexpectedRules", c.UnexpectedRules);
        if (c.Message is { } msg)
        {
            w.WriteString("message", msg);
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }
}
