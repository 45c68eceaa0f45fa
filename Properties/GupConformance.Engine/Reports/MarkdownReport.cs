using System.Globalization;
using System.Text;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Renders run results as GitHub-flavoured Markdown: the profile, the suite version, the capability manifest, a
/// per-rule table with the four outcomes and the exercised counts, the rule coverage, and each counterexample as a
/// step table (with the model's change per step) and a Mermaid sequence diagram. Deterministic: catalogue order,
/// invariant culture, LF, no timestamps, durations or absolute paths unless <see cref="ReportOptions"/> asks.
/// </summary>
public static class MarkdownReport
{
    public static string Render(RunResult result, ReportOptions? options = null) => Render([result], options);

    public static string Render(IReadOnlyList<RunResult> results, ReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        options ??= ReportOptions.Default;
        var sb = new StringBuilder();
        if (results.Count != 1)
        {
            sb.Append(CultureInfo.InvariantCulture, $"# GupConformance {SuiteVersion.Value} conformance report\n\n");
            sb.Append("| Profile | Implementation | Verdict | Pass | Fail | Not applicable | Expected divergence |\n|---|---|---|---:|---:|---:|---:|\n");
            foreach (var r in results)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| [`{r.Profile.Id}`](#{Anchor(Title(r))}) | `{r.Implementation}` | {VerdictText(r)} | {r.Count(Outcome.Pass)} | {r.Count(Outcome.Fail)} | {r.Count(Outcome.NotApplicable)} | {r.Count(Outcome.ExpectedDivergence)} |\n");
            }

            sb.Append(CultureInfo.InvariantCulture, $"\nVerdict: {results.Count(r => r.Conformant)} of {results.Count} profiles conformant.\n");
        }

        foreach (var r in results)
        {
            if (sb.Length > 0)
            {
                sb.Append('\n');
            }

            WriteRun(sb, r, options, results.Count == 1 ? "#" : "##");
        }

        return sb.ToString();
    }

    private static string Title(RunResult r) => $"{r.Implementation} under {r.Profile.Id}";

    private static string VerdictText(RunResult r) => r.Conformant ? "**CONFORMANT**" : "**NOT CONFORMANT**";

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Escapes text for a table cell (pipes, line breaks).</summary>
    public static string Cell(string? s) => string.IsNullOrEmpty(s)
        ? string.Empty
        : s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", "<br>", StringComparison.Ordinal);

    /// <summary>Inline code for a table cell.</summary>
    private static string Code(string? s) => string.IsNullOrEmpty(s) ? string.Empty : "`" + Cell(s).Replace("`", "'", StringComparison.Ordinal) + "`";

    /// <summary>GitHub's heading anchor: lower case, spaces to dashes, punctuation other than - and _ dropped.</summary>
    public static string Anchor(string heading)
    {
        var sb = new StringBuilder();
        foreach (var ch in heading.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_')
            {
                sb.Append(ch);
            }
            else if (ch == ' ')
            {
                sb.Append('-');
            }
        }

        return sb.ToString();
    }

    private static void WriteRun(StringBuilder sb, RunResult r, ReportOptions options, string h)
    {
        var o = r.Options;
        sb.Append(CultureInfo.InvariantCulture, $"{h} {Title(r)}\n\n");
        sb.Append("| | |\n|---|---|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Verdict | {VerdictText(r)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Suite version | {SuiteVersion.Value} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Profile | `{r.Profile.Id}`: {Cell(r.Profile.Title)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Implementation | `{r.Implementation}` (manifest: `{r.Manifest.Implementation}`) |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Seed | {o.Seed.ToString(CultureInfo.InvariantCulture)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Budget | {N(o.Sequences)} sequences × {N(o.Length)} actions, per-command timeout {N((long)o.CommandTimeout.TotalMilliseconds)} ms |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| Run | {N(r.SequencesRun)} sequences ({N(r.FailingSequences)} failing, {N(r.ExpectedDivergenceSequences)} with expected divergences), {N(r.CommandsExecuted)} commands, {N(r.ShrinkRuns)} shrink runs |\n");
        if (r.CorpusReplayed > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| Corpus | {N(r.CorpusReplayed)} traces replayed before generation |\n");
        }

        if (options.IncludeTimings)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| Elapsed | {r.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s |\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"| Replay | {Code(r.ReplayCommand)} |\n");

        sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Capability manifest\n\n");
        sb.Append("| Facet | Declared | In profile | Checked |\n|---|:---:|:---:|:---:|\n");
        foreach (var f in Enum.GetValues<Facet>().Where(f => f is not Facet.None and not Facet.All))
        {
            var declared = (r.Manifest.Facets & f) == f;
            var offered = (r.Profile.Facets & f) == f;
            sb.Append(CultureInfo.InvariantCulture, $"| {f} | {YesNo(declared)} | {YesNo(offered)} | {YesNo(declared && offered)} |\n");
        }

        if (r.Manifest.Divergences.Count == 0)
        {
            sb.Append("\nNo expected divergences declared.\n");
        }
        else
        {
            sb.Append("\n| Expected divergence | Reason |\n|---|---|\n");
            foreach (var d in r.Manifest.Divergences)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| `{d.RuleId}` | {Cell(d.Reason)} |\n");
            }
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Rules\n\n");
        sb.Append("| Pass | Fail | Not applicable | Expected divergence |\n|---:|---:|---:|---:|\n");
        sb.Append(CultureInfo.InvariantCulture, $"| {r.Count(Outcome.Pass)} | {r.Count(Outcome.Fail)} | {r.Count(Outcome.NotApplicable)} | {r.Count(Outcome.ExpectedDivergence)} |\n\n");
        sb.Append("| Rule | Level | Outcome | Exercised | Violations | Note |\n|---|---|---|---:|---:|---|\n");
        foreach (var v in r.Verdicts)
        {
            var outcome = v.Outcome == Outcome.Fail ? "**Fail**" : ReportWriter.OutcomeText(v.Outcome);
            sb.Append(CultureInfo.InvariantCulture, $"| `{v.Rule.Id}` | {ReportWriter.LevelText(v.Rule.Level)} | {outcome} | {N(v.Exercised)} | {N(v.Violations)} | {Cell(v.Note)} |\n");
        }

        if (options.IncludeCoverage)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Rule coverage\n\n");
            sb.Append("How often each rule that applies (or was exercised) was exercised, and by which commands.\n\n");
            sb.Append(CoverageView.RenderRuleCoverage(r));
            var kinds = string.Join(", ", r.CommandsByKind.Select(kv => $"{kv.Key} {N(kv.Value)}"));
            sb.Append(CultureInfo.InvariantCulture, $"\nCommands by kind: {(kinds.Length == 0 ? "none" : kinds)}.\n");
            if (r.EdgeCases.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Edge-case coverage\n\n");
                sb.Append("The edge cases the generator steers toward, with the generated sequences that reached each (refused flag combinations grouped by entry point).\n\n");
                sb.Append(EdgeCoverageView.Markdown(r.EdgeCases));
            }
        }

        if (r.Problems.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Problems\n\n");
            foreach (var p in r.Problems)
            {
                sb.Append(CultureInfo.InvariantCulture, $"- {p}\n");
            }
        }

        if (r.Warnings.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Warnings\n\n");
            foreach (var warning in r.Warnings)
            {
                sb.Append(CultureInfo.InvariantCulture, $"- {warning}\n");
            }
        }

        if (r.Counterexamples.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Counterexamples\n");
            foreach (var c in r.Counterexamples)
            {
                sb.Append('\n');
                WriteCounterexample(sb, c, h + "##");
            }
        }
    }

    private static string YesNo(bool b) => b ? "yes" : "no";

    /// <summary>One counterexample as Markdown (headings at level <paramref name="h"/>).</summary>
    public static string RenderCounterexample(Counterexample c, string h = "###")
    {
        var sb = new StringBuilder();
        WriteCounterexample(sb, c, h);
        return sb.ToString();
    }

    private static string KindText(FailureKind k) => k switch
    {
        FailureKind.Divergence => "divergence",
        FailureKind.Crash => "implementation crash",
        FailureKind.Timeout => "time-out",
        FailureKind.ModelError => "model error",
        _ => "invalid command",
    };

    private static void WriteCounterexample(StringBuilder sb, Counterexample c, string h)
    {
        var what = c.Cause is { } first ? first + ReportWriter.Folded(c) : KindText(c.Kind);
        sb.Append(CultureInfo.InvariantCulture, $"{h} Counterexample {N(c.Number)}: {what}{(c.Reproduced ? string.Empty : " (not reproduced)")}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Kind: {KindText(c.Kind)}; profile `{c.ProfileId}`; implementation `{c.Implementation}`\n");
        var seq = c.SequenceSeed is { } s ? $", sequence seed `0x{s.ToString("x16", CultureInfo.InvariantCulture)}`" : string.Empty;
        sb.Append(CultureInfo.InvariantCulture, $"- Seed: run {c.RunSeed.ToString(CultureInfo.InvariantCulture)}{seq}\n");
        sb.Append(c.FromTrace is { } from
            ? $"- Replayed from the corpus trace `{from}` ({N(c.Commands.Count)} actions)\n"
            : $"- Shrunk from {N(c.OriginalLength)} to {N(c.Commands.Count)} actions in {N(c.ShrinkRuns)} runs\n");
        if (c.ShrinkCutShort is { } cut)
        {
            sb.Append(CultureInfo.InvariantCulture, $"- Shrinking was cut short {cut}: this is the shortest failing sequence found, maybe not the minimal one\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"- Replay by seed: `{c.ReplayCommand}`\n");
        if (c.TraceReplayCommand is { } tr)
        {
            sb.Append(CultureInfo.InvariantCulture, $"- Replay the trace: `{tr}`\n");
        }

        if (!c.Reproduced)
        {
            sb.Append(CultureInfo.InvariantCulture, $"- Note: {Cell(c.NotReproducedNote ?? "the minimal sequence did not fail the same way when replayed for this report")} (non-deterministic implementation, or a time limit too tight for this machine?)\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Steps\n\n");
        sb.Append("| # | Command | Observed | Model's change |\n|---:|---|---|---|\n");
        foreach (var st in c.Steps)
        {
            var failed = c.FailedAction == st.Action;
            var n = failed ? $"**{N(st.Action)}** ⇒" : N(st.Action);
            var observed = st.Observed is null ? string.Empty : string.Join(", ", st.Observed.Select(kv => $"{kv.Key}={kv.Value}"));
            var change = st.StateChanges.Count == 0 ? st.Change : st.Change + "\n" + string.Join("\n", st.StateChanges);
            sb.Append(CultureInfo.InvariantCulture, $"| {n} | {Code(st.Command)} | {Cell(observed)} | {Cell(change)} |\n");
        }

        if (c.Kind == FailureKind.Divergence)
        {
            sb.Append(c.FailedAction is { } divergedAt
                ? $"\n{h}# Divergence at step {N(divergedAt)}\n\nThe first check that failed is listed first.\n\n"
                : $"\n{h}# Divergence\n\n");
            sb.Append("| Command | Field | Observed | Allowed | Rules |\n|---|---|---|---|---|\n");
            foreach (var m in c.Mismatches)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {Code(m.Command)} | `{m.Field}` | {(m.Observed is null ? "(not reported)" : Code(m.Observed))} | {string.Join(" or ", m.Allowed.Select(Code))} | {string.Join(", ", m.Rules.Select(x => $"`{x}`"))} |\n");
            }

            if (c.Cause is { } cause)
            {
                // The rule broken first, with its hint; the rules whose checks failed after it folded into one line.
                var rule = Rules.All.FirstOrDefault(x => string.Equals(x.Id, cause, StringComparison.Ordinal));
                sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Broken first\n\n");
                sb.Append(rule is null
                    ? $"- `{cause}`: not in the catalogue\n"
                    : $"- `{cause}` ({ReportWriter.LevelText(rule.Level)}): {rule.Title}. If this fails, {rule.IfFails}\n");
                if (ReportWriter.AlsoFits(c) is { } also)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"- {also}\n");
                }
                if (c.Consequences.Count > 0)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"\nand {N(c.Consequences.Count)} rule{(c.Consequences.Count == 1 ? string.Empty : "s")} whose checks failed after it: ");
                    sb.Append(string.Join(", ", c.Consequences.Select(id => c.UnexpectedRules.Contains(id, StringComparer.Ordinal) ? $"`{id}`" : $"`{id}` (declared expected divergence)")));
                    sb.Append(".\n");
                }
            }
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Failure\n\n");
            sb.Append(c.FailedAction is { } at
                ? $"At step {N(at)}, {Code(c.FailedCommand)}: {Cell(c.Message)}\n"
                : $"{Cell(c.Message)}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n{h}# Sequence diagram\n\n");
        sb.Append("```mermaid\n");
        sb.Append(Mermaid(c));
        sb.Append("```\n");
    }

    /// <summary>The counterexample as a Mermaid sequence diagram: test → implementation, the model's change as notes, the failing step highlighted.</summary>
    public static string Mermaid(Counterexample c)
    {
        var sb = new StringBuilder();
        sb.Append("sequenceDiagram\n");
        sb.Append("    participant T as Test\n");
        sb.Append(CultureInfo.InvariantCulture, $"    participant I as {M(c.Implementation)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"    participant M as Model ({M(c.ProfileId)})\n");
        foreach (var st in c.Steps)
        {
            var failed = c.FailedAction == st.Action;
            var indent = "    ";
            if (failed)
            {
                sb.Append("    rect rgb(255, 228, 228)\n");
                indent = "        ";
            }

            sb.Append(CultureInfo.InvariantCulture, $"{indent}T->>I: [{N(st.Action)}] {M(st.Command)}\n");
            if (st.Observed is { Count: > 0 } obs)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{indent}I-->>T: {M(string.Join(", ", obs.Select(kv => $"{kv.Key}={kv.Value}")))}\n");
            }

            if (!string.IsNullOrEmpty(st.Change))
            {
                sb.Append(CultureInfo.InvariantCulture, $"{indent}Note over M: {M(st.Change)}\n");
            }

            if (failed)
            {
                if (c.Kind == FailureKind.Divergence)
                {
                    foreach (var m in c.Mismatches)
                    {
                        var allowed = string.Join(" or ", m.Allowed);
                        sb.Append(CultureInfo.InvariantCulture,
                            $"{indent}Note over T,M: {M($"{m.Command}: {m.Field} = {m.Observed ?? "(not reported)"}, allowed {allowed} [{string.Join(", ", m.Rules)}]")}\n");
                    }
                }
                else
                {
                    sb.Append(CultureInfo.InvariantCulture, $"{indent}Note over T,I: {M(c.Message ?? KindText(c.Kind))}\n");
                }

                sb.Append("    end\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>Text safe inside a Mermaid message or note: no statement breaks, no entity or HTML syntax.</summary>
    private static string M(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            sb.Append(ch switch
            {
                ';' => "#59;",
                '#' => "#35;",
                '<' => "#lt;",
                '>' => "#gt;",
                '\r' or '\n' => " ",
                _ => ch.ToString(),
            });
        }

        return sb.ToString();
    }
}
