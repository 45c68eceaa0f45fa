using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace GupConformance.Tests.Snapshots;

/// <summary>
/// Snapshot reviews with Verify's conventions (Verify itself is not available here). A test renders text and calls
/// <see cref="Matches"/>; the text is compared with <c>&lt;Type&gt;.&lt;Method&gt;[_&lt;parameters&gt;].verified.&lt;ext&gt;</c> committed
/// beside the test source. On a mismatch (or a missing snapshot) the new text is written as
/// <c>.received.&lt;ext&gt;</c> (git-ignored) and the test fails with a readable diff; on success a stale
/// <c>.received</c> file is removed. Accepting: set <c>GUPCONFORMANCE_ACCEPT=1</c> and rerun — the received text
/// becomes the verified snapshot — never under <c>CI=true</c>, where the accept switch is refused.
/// </summary>
internal static class SnapshotAssert
{
    public const string AcceptVariable = "GUPCONFORMANCE_ACCEPT";

    /// <summary>Compares <paramref name="actual"/> with the snapshot of the calling test method.</summary>
    /// <param name="parameters">For theories: e.g. "profile=linux-6.18" (appended as _profile=linux-6.18).</param>
    public static void Matches(
        string actual,
        string extension = "txt",
        string? parameters = null,
        [CallerFilePath] string sourceFile = "",
        [CallerMemberName] string method = "")
    {
        var directory = SourceDirectory(sourceFile);
        var type = Path.GetFileNameWithoutExtension(sourceFile.Replace('\\', '/').Split('/')[^1]);
        var name = parameters is null ? $"{type}.{method}" : $"{type}.{method}_{parameters}";
        var outcome = Check(directory, name, extension, actual, Environment.GetEnvironmentVariable);
        if (!outcome.Passed)
        {
            Assert.Fail(outcome.Message);
        }
    }

    /// <summary>
    /// The same workflow for a committed document that is a rendering (e.g. Spec/RULES.md): the document itself is the
    /// verified text, and a mismatch writes <c>NAME.received.EXT</c> beside it.
    /// </summary>
    public static void MatchesDocument(string path, string actual)
    {
        var directory = Path.GetDirectoryName(path) ?? ".";
        var extension = Path.GetExtension(path).TrimStart('.');
        var outcome = CheckPaths(
            Path.Combine(directory, Path.GetFileName(path)),
            Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(path)}.received.{extension}"),
            Path.GetFileName(path),
            actual,
            Environment.GetEnvironmentVariable);
        if (!outcome.Passed)
        {
            Assert.Fail(outcome.Message);
        }
    }

    /// <summary>The result of one snapshot comparison.</summary>
    public sealed record Outcome(bool Passed, bool Accepted, string Message);

    /// <summary>
    /// The whole workflow, with the folder and the environment given (for the tests of the helper itself).
    /// </summary>
    public static Outcome Check(string directory, string name, string extension, string actual, Func<string, string?> environment) =>
        CheckPaths(
            Path.Combine(directory, $"{name}.verified.{extension}"),
            Path.Combine(directory, $"{name}.received.{extension}"),
            $"{name}.verified.{extension}",
            actual,
            environment);

    private static Outcome CheckPaths(string verifiedPath, string receivedPath, string label, string actual, Func<string, string?> environment)
    {
        actual = Normalize(actual);
        var exists = File.Exists(verifiedPath);
        var verified = exists ? Normalize(File.ReadAllText(verifiedPath)) : null;
        if (verified == actual)
        {
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }

            return new Outcome(true, false, "matches");
        }

        var ci = string.Equals(environment("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var accept = environment(AcceptVariable) == "1";
        if (accept && !ci)
        {
            File.WriteAllText(verifiedPath, actual);
            if (File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }

            return new Outcome(true, true, $"accepted {verifiedPath}");
        }

        File.WriteAllText(receivedPath, actual);
        var sb = new StringBuilder();
        sb.Append(exists ? $"Snapshot mismatch: {label}\n" : $"New snapshot: {label} does not exist yet\n");
        sb.Append($"  verified: {verifiedPath}\n  received: {receivedPath}\n");
        if (accept && ci)
        {
            sb.Append($"  {AcceptVariable}=1 is refused under CI=true: review and accept the change locally, then commit the .verified file.\n");
        }
        else
        {
            sb.Append($"  Review the diff; to accept it, rerun with {AcceptVariable}=1 (refused under CI=true), or copy the .received file over the .verified one. To reject it, fix the code and delete the .received file.\n");
        }

        sb.Append(Diff(verified ?? string.Empty, actual));
        return new Outcome(false, false, sb.ToString());
    }

    /// <summary>A unified-style diff (- verified, + received) with two lines of context, at most 120 lines.</summary>
    public static string Diff(string verified, string received)
    {
        var model = new InlineDiffBuilder(new DiffPlex.Differ()).BuildDiffModel(verified, received, ignoreWhitespace: false);
        var lines = model.Lines;
        var show = new bool[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Type is ChangeType.Inserted or ChangeType.Deleted)
            {
                for (var j = Math.Max(0, i - 2); j <= Math.Min(lines.Count - 1, i + 2); j++)
                {
                    show[j] = true;
                }
            }
        }

        var sb = new StringBuilder("--- verified\n+++ received\n");
        var written = 0;
        var gap = false;
        for (var i = 0; i < lines.Count; i++)
        {
            if (!show[i])
            {
                gap = true;
                continue;
            }

            if (gap && written > 0)
            {
                sb.Append("@@\n");
            }

            gap = false;
            if (++written > 120)
            {
                sb.Append("… (diff truncated)\n");
                break;
            }

            var prefix = lines[i].Type switch
            {
                ChangeType.Inserted => "+ ",
                ChangeType.Deleted => "- ",
                _ => "  ",
            };
            sb.Append(prefix).Append(lines[i].Text).Append('\n');
        }

        return sb.ToString();
    }

    private static string Normalize(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>
    /// The folder of the test source file: the [CallerFilePath] folder when it exists on this machine; otherwise
    /// (deterministic CI builds map it to /_/…) the same path under the repository root, found by walking up from
    /// AppContext.BaseDirectory to the folder holding GupConformance.sln, tried as repository-relative and then as
    /// relative to Properties/GupConformance.Tests.
    /// </summary>
    public static string SourceDirectory(string sourceFile) => SourceDirectory(sourceFile, () => RepoPaths.Root);

    public static string SourceDirectory(string sourceFile, Func<string> repoRoot)
    {
        var normalized = sourceFile.Replace('\\', '/');
        var dir = Path.GetDirectoryName(normalized);
        if (!normalized.StartsWith("/_/", StringComparison.Ordinal) && dir is not null && Directory.Exists(dir))
        {
            return dir;
        }

        var relative = normalized.StartsWith("/_/", StringComparison.Ordinal) ? normalized[3..] : normalized.TrimStart('/');
        var relativeDir = Path.GetDirectoryName(relative) ?? string.Empty;
        var root = repoRoot();
        string[] candidates =
        [
            Path.Combine(root, relativeDir),
            Path.Combine(root, "Properties", "GupConformance.Tests", relativeDir),
        ];
        var marker = "Properties/GupConformance.Tests/";
        var at = relative.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            candidates = [.. candidates, Path.Combine(root, Path.GetDirectoryName(relative[at..]) ?? string.Empty)];
        }

        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, Path.GetFileName(relative))))
            ?? candidates.FirstOrDefault(Directory.Exists)
            ?? throw new DirectoryNotFoundException($"cannot locate the test source folder of {sourceFile} under {root}");
    }
}
