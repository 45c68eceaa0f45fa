using GupConformance.Engine;

namespace GupConformance.Runner;

/// <summary>
/// <c>gupconformance merge REPORT.json... [--report-json FILE]</c>: combines the JSON reports of the shards of one run
/// (<c>--shard I/N</c>) into the whole run's verdict, rule table and counterexamples (<see cref="ReportMerge"/>). Prints
/// the summary; writes the merged JSON report to FILE. Exit 0 conformant, 1 not, 2 when the reports cannot be merged
/// (one line naming why: different suite versions, profiles, seeds, a missing or repeated shard, an unreadable file).
/// </summary>
public static class MergeCommand
{
    public const string Usage = "usage: gupconformance merge SHARD1.json SHARD2.json ... [--report-json MERGED.json]";

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? output = null;
        var inputs = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                stdout.WriteLine(Usage);
                return Program.ExitConformant;
            }

            if (args[i] == "--report-json")
            {
                if (i + 1 >= args.Count || string.IsNullOrWhiteSpace(args[i + 1]))
                {
                    return Bad(stderr, "--report-json needs a file path");
                }

                output = args[++i];
                continue;
            }

            if (args[i].StartsWith('-'))
            {
                return Bad(stderr, $"unknown option '{args[i]}' ({Usage})");
            }

            inputs.Add(args[i]);
        }

        if (inputs.Count == 0)
        {
            return Bad(stderr, $"no reports to merge ({Usage})");
        }

        if (output is not null && OutputPaths.FileProblem("--report-json", output) is { } problem)
        {
            return Bad(stderr, problem);
        }

        var reports = new List<(string, string)>();
        foreach (var path in inputs)
        {
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    return Bad(stderr, $"{path}: no such file");
                }

                if (info.Length > TraceFile.MaxFileBytes)
                {
                    return Bad(stderr, $"{path}: larger than {TraceFile.MaxFileBytes >> 20} MiB, not a report");
                }

                reports.Add((path, File.ReadAllText(path)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Bad(stderr, $"{path}: cannot be read ({e.Message})");
            }
        }

        MergedReport merged;
        try
        {
            merged = ReportMerge.Merge(reports);
        }
        catch (ReportMergeException e)
        {
            return Bad(stderr, e.Message);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException or KeyNotFoundException or NullReferenceException or InvalidCastException)
        {
            return Bad(stderr, $"the reports are not well-formed shard reports ({e.GetType().Name}: {e.Message.Split('\n')[0]})");
        }

        stdout.Write(merged.Summary);
        if (output is not null)
        {
            File.WriteAllText(output, merged.Json);
        }

        return merged.Conformant ? Program.ExitConformant : Program.ExitNotConformant;
    }

    private static int Bad(TextWriter stderr, string message)
    {
        stderr.WriteLine($"error: {message}");
        return Program.ExitBadArguments;
    }
}
