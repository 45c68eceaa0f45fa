namespace GupConformance.Engine;

/// <summary>
/// What a Markdown or JSON report may include beyond the deterministic content. By default nothing that changes
/// from one run to the next (no timestamps, no durations), so two runs with the same seed (and the same corpus)
/// give byte-identical reports.
/// </summary>
public sealed record ReportOptions
{
    public static ReportOptions Default { get; } = new();

    /// <summary>Include each run's elapsed time (not deterministic).</summary>
    public bool IncludeTimings { get; init; }

    /// <summary>Include the rule coverage section (per rule: exercise count and the commands that exercised it).</summary>
    public bool IncludeCoverage { get; init; } = true;
}
