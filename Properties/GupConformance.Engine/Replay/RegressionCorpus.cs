using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace GupConformance.Engine;

/// <summary>A trace read from a corpus folder, with the path it was read from (as the folder was given).</summary>
public sealed record CorpusEntry(string Path, TraceFile Trace);

/// <summary>What a corpus folder holds: the traces (ordinal file-name order) and the files that could not be read.</summary>
public sealed record CorpusLoad(IReadOnlyList<CorpusEntry> Traces, IReadOnlyList<(string File, string Error)> Errors);

/// <summary>
/// The regression corpus: a folder of <c>*.trace.json</c> files (<see cref="TraceFile"/>). Every failure a run
/// finds is written there, and every trace there is replayed before generation on the next run (the runner's
/// default folder is <c>.gupconformance/corpus</c> under the current directory, which git ignores; commit a
/// trace elsewhere to keep it). File names are deterministic: profile, implementation, first violated rule and a
/// hash of the commands, so the same failure is written once.
/// </summary>
public static class RegressionCorpus
{
    public const string DefaultDirectory = ".gupconformance/corpus";

    public const string Extension = ".trace.json";

    public static CorpusLoad Load(string directory)
    {
        var traces = new List<CorpusEntry>();
        var errors = new List<(string, string)>();
        if (!Directory.Exists(directory))
        {
            return new CorpusLoad(traces, errors);
        }

        var files = Directory.GetFiles(directory, "*" + Extension, SearchOption.TopDirectoryOnly)
            .Select(f => Path.Combine(directory, Path.GetFileName(f)))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            try
            {
                traces.Add(new CorpusEntry(Portable(file), TraceFile.Load(file)));
            }
            catch (TraceFileException e)
            {
                errors.Add((Portable(file), e.Message));
            }
        }

        return new CorpusLoad(traces, errors);
    }

    /// <summary>Writes a trace into the folder (created if needed) and returns its path (under the folder as given).</summary>
    public static string Write(string directory, TraceFile trace)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName(trace));
        File.WriteAllText(path, trace.ToJson());
        return Portable(path);
    }

    /// <summary>e.g. <c>linux-6.18--broken-pin-bias-adds-refs--PIN-BIAS-SMALL--3f2a9c1d.trace.json</c>.</summary>
    public static string FileName(TraceFile trace)
    {
        var what = trace.Signature[0];
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(
            trace.Profile + "\n" + trace.Implementation + "\n" + string.Join("\n", trace.Commands.Select(TraceJson.Command))));
        var h = Convert.ToHexString(hash, 0, 4).ToLowerInvariant();
        return Safe($"{Short(trace.Profile)}--{Short(trace.Implementation)}--{Short(what)}--{h}") + Extension;
    }

    /// <summary>
    /// An id as a file-name part: itself up to 40 characters, else its first 24 and a hash of the whole. A process
    /// plug-in's id is a whole command line; a file name built from it must stay far below the file system's limit.
    /// </summary>
    public static string Short(string id)
    {
        if (id.Length <= 40)
        {
            return id;
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)), 0, 4).ToLowerInvariant();
        return id[..24] + "-" + hash;
    }

    /// <summary>The runner command that replays one trace file.</summary>
    public static string ReplayCommand(string tracePath) =>
        "gupconformance --replay " + Quote(Portable(tracePath));

    private static string Safe(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' or '_' ? ch : '_');
        }

        return sb.ToString();
    }

    private static string Portable(string path) => path.Replace('\\', '/');

    /// <summary>One shell word for a path or an implementation id: single-quoted when the shell would split or expand it.</summary>
    internal static string Quote(string path) =>
        path.Length == 0 || path.Any(ch => char.IsWhiteSpace(ch) || ch is '\'' or '"' or '$' or '&' or ';' or '|' or '*' or '?'
            or '(' or ')' or '<' or '>' or '`' or '\\' or '!' or '#' or '~' or '[' or ']' or '{' or '}')
            ? "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'"
            : path;

    internal static string Hex(ulong v) => "0x" + v.ToString("x16", CultureInfo.InvariantCulture);
}
