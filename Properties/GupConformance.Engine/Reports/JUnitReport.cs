using System.Globalization;
using System.Text;
using System.Xml;
using GupConformance.Engine.Live;
using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Renders run results as JUnit XML, the format CI systems read: one test suite per profile run, one test case per
/// rule (passed, failed with the counterexamples that violate it, or skipped with the reason it is not applicable),
/// and one more case for failures tied to no rule (crashes, time-outs, problems). Deterministic like the other reports:
/// no timestamps or durations unless <see cref="ReportOptions.IncludeTimings"/>.
/// </summary>
public static class JUnitReport
{
    /// <summary>One JUnit test case: a rule's verdict in one run.</summary>
    private sealed record Case(string ClassName, string Name, string Outcome, string? Message, string? Text, long Exercised);

    private sealed record Suite(string Name, IReadOnlyList<(string Name, string Value)> Properties, IReadOnlyList<Case> Cases, TimeSpan? Elapsed);

    public static string Render(IReadOnlyList<RunResult> results, ReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        options ??= ReportOptions.Default;
        return Write([.. results.Select(r => SuiteOf(r, options))], options);
    }

    /// <summary>A live run as one suite: one case per live rule.</summary>
    public static string Render(LiveRunResult live, ReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(live);
        options ??= ReportOptions.Default;
        var cls = $"gupconformance.live.{live.ProfileId}";
        var cases = new List<Case>();
        foreach (var rule in LiveRules.All)
        {
            var verdict = live.Verdict is LiveVerdict.NotApplicable or LiveVerdict.Interrupted
                ? (live.Verdict == LiveVerdict.Interrupted ? "Not applicable — the run was interrupted" : "Not applicable — " + live.Reason)
                : live.RuleVerdict(rule.Id);
            var violating = live.Counterexamples.Where(c => c.ViolatedRules.Contains(rule.Id)).ToList();
            cases.Add(verdict switch
            {
                "Fail" => new Case(cls, $"{rule.Id}: {rule.Title}", "failure", $"violated in {violating.Count.ToString(CultureInfo.InvariantCulture)} counterexample(s); if this fails, check {rule.IfFails}",
                    string.Join("\n", violating.Select(LiveText)), live.RuleCounts.GetValueOrDefault(rule.Id)),
                "Pass" => new Case(cls, $"{rule.Id}: {rule.Title}", "passed", null, null, live.RuleCounts.GetValueOrDefault(rule.Id)),
                "Not exercised" => new Case(cls, $"{rule.Id}: {rule.Title}", "skipped", "not exercised by this run", null, 0),
                _ => new Case(cls, $"{rule.Id}: {rule.Title}", "skipped", verdict, null, 0),
            });
        }

        if (live.Notes.Count > 0 && live.Verdict == LiveVerdict.Fail && live.Counterexamples.Count == 0)
        {
            cases.Add(new Case(cls, "run: failures tied to no rule", "failure", string.Join("; ", live.Notes), null, 0));
        }

        var props = new List<(string, string)>
        {
            ("suiteVersion", SuiteVersion.Value),
            ("kernel", live.Environment.KernelRelease),
            ("liveProfile", live.ProfileId),
            ("verdict", live.Verdict.ToString()),
        };
        props.AddRange(live.Environment.Probes.Select(p => ("probe: " + p.Key, p.Value)));
        return Write([new Suite($"live {live.ProfileId} on {live.Environment.KernelRelease}", props, cases, options.IncludeTimings ? live.Elapsed : null)], options);
    }

    private static string LiveText(LiveCounterexample c)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Counterexample ({c.Shrunk.Count} commands, violating {string.Join(", ", c.ViolatedRules)}):\n");
        foreach (var s in c.Steps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {s.Index,3}. {s.Command}\n       model: {s.Change}\n");
            foreach (var m in s.Mismatches)
            {
                sb.Append(CultureInfo.InvariantCulture, $"       MISMATCH {m.Field}: observed {m.Observed ?? Oracles.FieldCheck.Absent}, allowed {string.Join(" | ", m.Allowed)}\n");
            }
        }

        return sb.ToString();
    }

    private static Suite SuiteOf(RunResult r, ReportOptions options)
    {
        var cls = $"gupconformance.{r.Profile.Id}";
        var cases = new List<Case>();
        foreach (var v in r.Verdicts)
        {
            var name = $"{v.Rule.Id}: {v.Rule.Title}";
            var violating = r.Counterexamples.Where(c => c.ViolatedRules.Contains(v.Rule.Id)).ToList();
            var asConsequence = violating.Count > 0 && violating.All(c => !string.Equals(c.Cause, v.Rule.Id, StringComparison.Ordinal))
                ? $" (only after {string.Join(", ", violating.Select(c => c.Cause).Distinct(StringComparer.Ordinal))} had failed first)"
                : string.Empty;
            cases.Add(v.Outcome switch
            {
                Outcome.Pass => new Case(cls, name, "passed", null, null, v.Exercised),
                Outcome.Fail => new Case(cls, name, "failure", $"{v.Note}{asConsequence}; if this fails, {v.Rule.IfFails}",
                    string.Join("\n", violating.Select(ReportWriter.RenderCounterexample)), v.Exercised),
                Outcome.NotApplicable => new Case(cls, name, "skipped", "Not applicable: " + v.Note, null, v.Exercised),
                _ => new Case(cls, name, "passed", null, "Expected divergence: " + v.Note, v.Exercised),
            });
        }

        var unruled = r.Counterexamples.Where(c => c.ViolatedRules.Count == 0).ToList();
        if (r.Problems.Count > 0 || unruled.Count > 0)
        {
            cases.Add(new Case(cls, "run: failures tied to no rule (crashes, time-outs, problems)", "failure",
                string.Join("; ", r.Problems.DefaultIfEmpty("see the counterexamples")),
                string.Join("\n", unruled.Select(ReportWriter.RenderCounterexample)), 0));
        }

        var props = new List<(string, string)>
        {
            ("suiteVersion", SuiteVersion.Value),
            ("implementation", r.Implementation),
            ("profile", r.Profile.Id),
            ("seed", r.Options.Seed.ToString(CultureInfo.InvariantCulture)),
            ("sequences", r.Options.Sequences.ToString(CultureInfo.InvariantCulture)),
            ("length", r.Options.Length.ToString(CultureInfo.InvariantCulture)),
            ("replayCommand", r.ReplayCommand),
        };
        props.AddRange(r.Warnings.Select(w => ("warning", w)));
        return new Suite($"{r.Profile.Id} / {r.Implementation}", props, cases, options.IncludeTimings ? r.Elapsed : null);
    }

    private static string Write(IReadOnlyList<Suite> suites, ReportOptions options)
    {
        _ = options;
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", NewLineChars = "\n", Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
        using (var w = XmlWriter.Create(new StringWriterUtf8(sb), settings))
        {
            w.WriteStartDocument();
            w.WriteStartElement("testsuites");
            w.WriteAttributeString("name", $"GupConformance {SuiteVersion.Value}");
            Counts(w, suites.SelectMany(s => s.Cases).ToList());
            foreach (var suite in suites)
            {
                w.WriteStartElement("testsuite");
                w.WriteAttributeString("name", Clean(suite.Name));
                Counts(w, suite.Cases);
                if (suite.Elapsed is { } t)
                {
                    w.WriteAttributeString("time", t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture));
                }

                w.WriteStartElement("properties");
                foreach (var (name, value) in suite.Properties)
                {
                    w.WriteStartElement("property");
                    w.WriteAttributeString("name", Clean(name));
                    w.WriteAttributeString("value", Clean(value));
                    w.WriteEndElement();
                }

                w.WriteEndElement();
                foreach (var c in suite.Cases)
                {
                    w.WriteStartElement("testcase");
                    w.WriteAttributeString("classname", c.ClassName);
                    w.WriteAttributeString("name", Clean(c.Name));
                    w.WriteAttributeString("assertions", c.Exercised.ToString(CultureInfo.InvariantCulture));
                    if (c.Outcome is "failure" or "skipped")
                    {
                        w.WriteStartElement(c.Outcome);
                        w.WriteAttributeString("message", Clean(c.Message ?? string.Empty));
                        if (c.Outcome == "failure")
                        {
                            w.WriteAttributeString("type", "nonconformance");
                            w.WriteString(Clean(c.Text ?? string.Empty));
                        }

                        w.WriteEndElement();
                    }
                    else if (c.Text is { Length: > 0 } text)
                    {
                        w.WriteElementString("system-out", Clean(text));
                    }

                    w.WriteEndElement();
                }

                w.WriteEndElement();
            }

            w.WriteEndElement();
            w.WriteEndDocument();
        }

        return sb.ToString().Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    private static void Counts(XmlWriter w, IReadOnlyCollection<Case> cases)
    {
        w.WriteAttributeString("tests", cases.Count.ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("failures", cases.Count(c => c.Outcome == "failure").ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("errors", "0");
        w.WriteAttributeString("skipped", cases.Count(c => c.Outcome == "skipped").ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>XML 1.0 cannot hold most control characters at all: whatever an implementation wrote is escaped
    /// visibly (as in every report), newlines and tabs kept.</summary>
    private static string Clean(string text) =>
        string.Join('\n', text.Split('\n').Select(line => string.Join('\t', line.Split('\t').Select(Untrusted.Printable))));

    /// <summary>A StringWriter that declares UTF-8, so the XML declaration says what the file will be.</summary>
    private sealed class StringWriterUtf8(StringBuilder sb) : StringWriter(sb, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
