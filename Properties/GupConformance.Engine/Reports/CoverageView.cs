using System.Globalization;
using System.Text;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>One rule's coverage in a run: how often it was exercised, and by which command kinds (most first).</summary>
public sealed record RuleCoverage(Rule Rule, Outcome Outcome, long Exercised, IReadOnlyList<KeyValuePair<string, long>> ByCommand);

/// <summary>
/// The rule coverage views: per rule, how often a run exercised it and by which commands; per profile, which rules
/// apply (the catalogue's applicability matrix). Deterministic: catalogue and profile order, ordinal ties.
/// </summary>
public static class CoverageView
{
    /// <summary>Every catalogue rule with its coverage in the run, in catalogue order.</summary>
    public static IReadOnlyList<RuleCoverage> Of(RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return
        [
            .. result.Verdicts.Select(v => new RuleCoverage(
                v.Rule,
                v.Outcome,
                result.ExercisedByRule.GetValueOrDefault(v.Rule.Id),
                [
                    .. result.ExercisedByKind
                        .Where(kv => kv.Value.GetValueOrDefault(v.Rule.Id) > 0)
                        .Select(kv => new KeyValuePair<string, long>(kv.Key, kv.Value[v.Rule.Id]))
                        .OrderByDescending(kv => kv.Value)
                        .ThenBy(kv => kv.Key, StringComparer.Ordinal),
                ])),
        ];
    }

    /// <summary>"gup 120, release 4" (or "—").</summary>
    public static string ByCommandText(RuleCoverage c) => c.ByCommand.Count == 0
        ? "—"
        : string.Join(", ", c.ByCommand.Select(kv => $"{kv.Key} {kv.Value.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>The per-rule coverage of a run as a Markdown table (rules that apply or were exercised).</summary>
    public static string RenderRuleCoverage(RunResult result)
    {
        var sb = new StringBuilder();
        sb.Append("| Rule | Outcome | Exercised | By command |\n|---|---|---:|---|\n");
        foreach (var c in Of(result).Where(c => c.Exercised > 0 || c.Outcome != Outcome.NotApplicable))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| `{c.Rule.Id}` | {ReportWriter.OutcomeText(c.Outcome)} | {c.Exercised} | {ByCommandText(c)} |\n");
        }

        return sb.ToString();
    }

    /// <summary>Short column labels for the profiles (5.6, 6.15-32, p2015, …).</summary>
    public static string ShortLabel(Profile p) => p.Id
        .Replace("linux-", string.Empty, StringComparison.Ordinal)
        .Replace("-32bit", "-32", StringComparison.Ordinal)
        .Replace("proposal-2015-get-vaddr-pfns", "p2015", StringComparison.Ordinal)
        .Replace("proposal-2022-iov-extract-rfc", "p2022", StringComparison.Ordinal)
        .Replace("proposal-2023-iov-extract-v8", "p2023", StringComparison.Ordinal);

    /// <summary>
    /// The per-profile rule applicability table: one row per rule, one column per profile; ● where the rule applies
    /// (in the profile and of a facet the profile offers), · where not; and a count per profile.
    /// </summary>
    public static string RenderApplicability()
    {
        var profiles = Profiles.All;
        var sb = new StringBuilder();
        sb.Append("# Rule applicability per profile\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Suite version {SuiteVersion.Value}. ● the rule applies to the profile, · it does not. Columns:");
        foreach (var p in profiles)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {ShortLabel(p)} = `{p.Id}`;");
        }

        sb.Length--;
        sb.Append(".\n\n");
        sb.Append("| Rule | Level | Facet |");
        foreach (var p in profiles)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {ShortLabel(p)} |");
        }

        sb.Append("\n|---|---|---|");
        foreach (var unused in profiles)
        {
            sb.Append(":---:|");
        }

        sb.Append('\n');
        foreach (var r in Rules.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| `{r.Id}` | {ReportWriter.LevelText(r.Level)} | {r.Facet} |");
            foreach (var p in profiles)
            {
                sb.Append(r.Applies(p) ? " ● |" : " · |");
            }

            sb.Append('\n');
        }

        sb.Append("| **Rules that apply** | | |");
        foreach (var p in profiles)
        {
            sb.Append(CultureInfo.InvariantCulture, $" **{Rules.All.Count(r => r.Applies(p))}** |");
        }

        sb.Append('\n');
        return sb.ToString();
    }
}
