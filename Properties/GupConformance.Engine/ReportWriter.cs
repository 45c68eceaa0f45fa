using System.Globalization;
using System.Text;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Renders a <see cref="RunResult"/> as plain text: header (implementation, profile, seed, replay command),
/// the rule table, counterexamples and a summary. Deterministic: invariant culture, catalogue order, LF line
/// ends, no timestamps or durations (elapsed time belongs on stderr).
/// </summary>
public static class ReportWriter
{
    public static string Render(RunResult result)
    {
        var sb = new StringBuilder();
        WriteHeader(sb, result);
        sb.Append('\n');
        WriteTable(sb, result);
        if (result.Counterexamples.Count > 0)
        {
            foreach (var c in result.Counterexamples)
            {
                sb.Append('\n');
                WriteCounterexample(sb, c);
            }
        }

        sb.Append('\n');
        if (result.EdgeCases.Count > 0)
        {
            sb.Append(EdgeCoverageView.Text(result.EdgeCases));
        }

        WriteSummary(sb, result);
        return sb.ToString();
    }

    /// <summary>One counterexample as the console report shows it.</summary>
    public static string RenderCounterexample(Counterexample c)
    {
        var sb = new StringBuilder();
        WriteCounterexample(sb, c);
        return sb.ToString();
    }

    public static string OutcomeText(Outcome o) => o switch
    {
        Outcome.Pass => "Pass",
        Outcome.Fail => "Fail",
        Outcome.NotApplicable => "Not applicable",
        Outcome.ExpectedDivergence => "Expected divergence",
        _ => o.ToString(),
    };

    public static string LevelText(RuleLevel l) => l == RuleLevel.Must ? "MUST" : "SHOULD";

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static void Line(StringBuilder sb, string text) => sb.Append(text).Append('\n');

    private static void WriteHeader(StringBuilder sb, RunResult r)
    {
        var o = r.Options;
        Line(sb, $"GupConformance {SuiteVersion.Value} conformance report");
        Line(sb, $"Implementation: {r.Implementation} (manifest: {r.Manifest.Implementation})");
        Line(sb, $"Profile:        {r.Profile.Id} - {r.Profile.Title}");
        Line(sb, $"Facets:         {r.Manifest.Facets & r.Profile.Facets}");
        if (r.Manifest.MaxOrder is { } maxOrder)
        {
            Line(sb, $"Folio orders:   up to {N(maxOrder)} (the implementation maps no larger folios; larger ones are not generated)");
        }

        Line(sb, $"Seed:           {o.Seed.ToString(CultureInfo.InvariantCulture)}");
        Line(sb, $"Budget:         {N(o.Sequences)} sequences x {N(o.Length)} actions, per-command timeout {N((long)o.CommandTimeout.TotalMilliseconds)} ms");
        Line(sb, $"Replay:         {r.ReplayCommand}");
        if (r.Manifest.Divergences.Count > 0)
        {
            Line(sb, "Declared expected divergences:");
            foreach (var d in r.Manifest.Divergences)
            {
                Line(sb, $"  {d.RuleId}: {d.Reason}");
            }
        }
    }

    private static void WriteTable(StringBuilder sb, RunResult r)
    {
        var rows = r.Verdicts.Select(v => new[]
        {
            v.Rule.Id, LevelText(v.Rule.Level), OutcomeText(v.Outcome), N(v.Exercised), v.Note,
        }).ToList();
        string[] head = ["Rule", "Level", "Outcome", "Exercised", "Note"];
        var widths = Enumerable.Range(0, 4).Select(i => Math.Max(head[i].Length, rows.Count == 0 ? 0 : rows.Max(x => x[i].Length))).ToArray();
        void Row(string[] cells)
        {
            var line = new StringBuilder();
            line.Append(cells[0].PadRight(widths[0])).Append("  ");
            line.Append(cells[1].PadRight(widths[1])).Append("  ");
            line.Append(cells[2].PadRight(widths[2])).Append("  ");
            line.Append(cells[3].PadLeft(widths[3])).Append("  ");
            line.Append(cells[4]);
            Line(sb, line.ToString().TrimEnd());
        }

        Row(head);
        Row(widths.Select(w => new string('-', w)).Append("----").ToArray());
        foreach (var row in rows)
        {
            Row(row);
        }
    }

    private static void WriteCounterexample(StringBuilder sb, Counterexample c)
    {
        var kind = c.Kind switch
        {
            FailureKind.Divergence => "divergence",
            FailureKind.Crash => "implementation crash",
            FailureKind.Timeout => "time-out",
            FailureKind.ModelError => "model error",
            _ => "invalid command",
        };
        Line(sb, $"Counterexample #{N(c.Number)} ({kind}{(c.Reproduced ? string.Empty : ", not reproduced")}): profile {c.ProfileId}, implementation {c.Implementation}");
        if (c.Cause is { } causeId)
        {
            var causeRule = Rules.All.FirstOrDefault(r => string.Equals(r.Id, causeId, StringComparison.Ordinal));
            Line(sb, $"  Broken first: {causeId}{(causeRule is null ? string.Empty : " — " + causeRule.Title)}{Folded(c)}");
        }
        var seq = c.SequenceSeed is { } s ? $", sequence seed 0x{s.ToString("x16", CultureInfo.InvariantCulture)}" : string.Empty;
        Line(sb, $"  Seed: run {c.RunSeed.ToString(CultureInfo.InvariantCulture)}{seq}; shrunk from {N(c.OriginalLength)} to {N(c.Commands.Count)} actions in {N(c.ShrinkRuns)} runs");
        if (c.ShrinkCutShort is { } cut)
        {
            Line(sb, $"  Shrinking was cut short {cut}: this is the shortest failing sequence found, maybe not the minimal one");
        }
        Line(sb, $"  Replay: {c.ReplayCommand}");
        if (c.TraceReplayCommand is { } tr)
        {
            Line(sb, $"  Replay the trace: {tr}");
        }

        if (!c.Reproduced)
        {
            Line(sb, $"  Note: {c.NotReproducedNote ?? "the minimal sequence did not fail the same way when replayed for this report"} (non-deterministic implementation, or a time limit too tight for this machine?)");
        }


        Line(sb, "  Steps:");
        for (var i = 0; i < c.Steps.Count; i++)
        {
            var st = c.Steps[i];
            var mark = c.FailedAction == st.Action ? "=>" : "  ";
            Line(sb, $"  {mark} [{N(st.Action)}] {st.Command}");
            if (!string.IsNullOrEmpty(st.Change))
            {
                Line(sb, $"         model: {st.Change}");
            }

            foreach (var change in st.StateChanges)
            {
                Line(sb, $"           {change}");
            }
        }

        if (c.Kind == FailureKind.Divergence)
        {
            Line(sb, c.FailedAction is { } divergedAt ? $"  Divergence at step [{N(divergedAt)}] (the first check that failed is listed first):" : "  Divergence:");
            foreach (var m in c.Mismatches)
            {
                var observed = m.Observed ?? "(not reported)";
                var allowed = m.Allowed.Count == 1 ? m.Allowed[0] : "one of {" + string.Join(", ", m.Allowed) + "}";
                Line(sb, $"    {m.Command}: {m.Field} observed {observed}, expected {allowed}  [{string.Join(", ", m.Rules)}]");
            }

            // The cause with its hint; the rules whose checks failed after it folded into one line.
            if (c.Cause is { } cause)
            {
                var rule = Rules.All.FirstOrDefault(r => string.Equals(r.Id, cause, StringComparison.Ordinal));
                Line(sb, "  Broken first (the rule of the first check that failed):");
                Line(sb, rule is null ? $"    {cause}: (not in the catalogue)" : $"    {cause} [{LevelText(rule.Level)}]: {rule.Title}");
                if (rule is not null)
                {
                    Line(sb, $"      If this fails, {rule.IfFails}");
                }

                if (AlsoFits(c) is { } also)
                {
                    Line(sb, $"    {also}");
                }

                if (c.Consequences.Count > 0)
                {
                    Line(sb, $"  and {N(c.Consequences.Count)} rule{(c.Consequences.Count == 1 ? string.Empty : "s")} whose checks failed after it: {string.Join(", ", c.Consequences.Select(id => c.UnexpectedRules.Contains(id, StringComparer.Ordinal) ? id : id + " (declared expected divergence)"))}");
                }
            }
        }
        else
        {
            Line(sb, c.FailedAction is { } at
                ? $"  Failure at step [{N(at)}] {c.FailedCommand}: {c.Message}"
                : $"  Failure: {c.Message}");
        }
    }

    /// <summary>The sentence saying which other rules the first failing count fits just as well, or null when none.</summary>
    public static string? AlsoFits(Counterexample c) => c.CauseAlsoFits.Count == 0
        ? null
        : $"The count's difference fits {string.Join(" or ", c.CauseAlsoFits)} as well: two changes of the step could each have been the one the implementation got wrong, and the count alone cannot tell which (the first the step made is named).";

    /// <summary>", and N rules whose checks failed after it", or nothing.</summary>
    public static string Folded(Counterexample c) => c.Consequences.Count == 0
        ? string.Empty
        : $", and {N(c.Consequences.Count)} rule{(c.Consequences.Count == 1 ? string.Empty : "s")} whose checks failed after it";

    private static void WriteSummary(StringBuilder sb, RunResult r)
    {
        var kinds = string.Join(", ", r.CommandsByKind.Select(kv => $"{kv.Key} {N(kv.Value)}"));
        Line(sb, $"Commands by kind: {(kinds.Length == 0 ? "none" : kinds)}");
        foreach (var p in r.Problems)
        {
            Line(sb, $"Problem: {p}");
        }

        foreach (var w in r.Warnings)
        {
            Line(sb, $"Warning: {w}");
        }

        Line(sb, $"Sequences: {N(r.SequencesRun)} run, {N(r.FailingSequences)} failing, {N(r.ExpectedDivergenceSequences)} with expected divergences; {N(r.CommandsExecuted)} commands; {N(r.ShrinkRuns)} shrink runs");
        Line(sb, $"Rules: {N(r.Verdicts.Count)}: {N(r.Count(Outcome.Pass))} pass, {N(r.Count(Outcome.Fail))} fail, {N(r.Count(Outcome.NotApplicable))} not applicable, {N(r.Count(Outcome.ExpectedDivergence))} expected divergence");
        Line(sb, $"Verdict: {r.Profile.Id}: {(r.Conformant ? "CONFORMANT" : "NOT CONFORMANT")}");
    }
}
