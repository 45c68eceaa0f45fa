using System.Globalization;
using System.Text;
using GupConformance.Engine.Coverage;

namespace GupConformance.Engine;

/// <summary>How the reports show a run's edge-case coverage: one line per edge case, the refused flag combinations grouped by entry point.</summary>
public static class EdgeCoverageView
{
    /// <summary>Rows of (what, reached, targets, sequences, unreached labels): each non-refusal target alone, refusals per entry point.</summary>
    public static IReadOnlyList<(string What, int Reached, int Targets, long Sequences, IReadOnlyList<string> Missing)> Rows(IReadOnlyList<EdgeCoverage> edges)
    {
        var rows = new List<(string, int, int, long, IReadOnlyList<string>)>();
        foreach (var e in edges.Where(e => e.Family != EdgeFamily.RefusedFlags))
        {
            rows.Add((e.Label, e.Sequences > 0 ? 1 : 0, 1, e.Sequences, e.Sequences > 0 ? [] : [e.Label]));
        }

        foreach (var g in edges.Where(e => e.Family == EdgeFamily.RefusedFlags).GroupBy(e => e.Label[..e.Label.IndexOf(' ', StringComparison.Ordinal)]))
        {
            var list = g.ToList();
            rows.Add(($"{g.Key} refusing its flag combinations", list.Count(e => e.Sequences > 0), list.Count, list.Sum(e => e.Sequences),
                [.. list.Where(e => e.Sequences == 0).Select(e => e.Label)]));
        }

        return rows;
    }

    public static string Markdown(IReadOnlyList<EdgeCoverage> edges)
    {
        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder("| Edge case | Reached | Sequences | Not reached |\n|---|---:|---:|---|\n");
        foreach (var (what, reached, targets, sequences, missing) in Rows(edges))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {what} | {N(reached)}/{N(targets)} | {N(sequences)} | {(missing.Count == 0 ? "—" : string.Join("; ", missing))} |\n");
        }

        return sb.ToString();
    }

    /// <summary>One summary line, and the unreached targets if any.</summary>
    public static string Text(IReadOnlyList<EdgeCoverage> edges)
    {
        var reached = edges.Count(e => e.Sequences > 0);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Edge cases reached: {reached} of {edges.Count} targets\n");
        foreach (var e in edges.Where(e => e.Sequences == 0))
        {
            sb.Append(CultureInfo.InvariantCulture, $"  not reached: {e.Label}\n");
        }

        return sb.ToString();
    }
}
